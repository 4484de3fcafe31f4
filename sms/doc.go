// Package sms answers checks sent by SMS, for people on feature phones who
// already text their CNIC to 668 and their IMEI to 8484. It is the
// framework-free core: the HTTP webhooks and the sms-sim command only move
// a Message in and a Reply out.
//
// # Gateways
//
// Each SMS gateway is a Gateway (gateway.go), one file each: Twilio
// (twilio.go) and a Kannel-style sms-service (kannel.go). It holds its own
// secrets and knows its wire format, how to authenticate a Request, decode
// it into a Message and its message ID, and render a Reply, with no HTTP
// framework: package api builds the Request and mounts every configured
// gateway at /v1/sms/{Name} with one handler, so that the order of the
// checks below is the same for all. A gateway that can also send on its own
// (alerts) implements Sender.
//
// # One message
//
// A webhook first checks that the request is authentic (Twilio's
// signature, Kannel's secret), then asks Service.Replayed whether the
// gateway's ID for the message (Twilio's MessageSid, Kannel's %I) was seen
// in the last ReplayWindow: a replay of a captured request, or the
// gateway's own retry, gets silence and costs nothing, and a store that
// cannot tell gets the request refused (503) for the gateway to retry.
//
// Service.Handle, for each message that is not a replay:
//
//  1. hashes the sender: hashing.Key.Keyed(SenderPurpose) of the canonical
//     number (so +92300…, 92300… and 0300… are one sender), or of From as
//     written for a sender that is no Pakistani mobile number. The hash is
//     the only form of the sender that counters and preferences see;
//  2. charges the sender's limit, then the gateway's (ratelimit SMSSender,
//     SMSGateway): a refused message is answered once per window with the
//     time to try again (Pakistan time) and then with silence, and a limiter
//     that cannot be reached gets "try later", never an unlimited check;
//  3. parses the body (Parse, command.go);
//  4. picks the reply language: the sender's stored choice, else Urdu if
//     the body has Urdu letters, else English (reading the choice renews
//     it for Config.PrefRetention);
//  5. for a check, evaluates the identifier itself, as a browser would with
//     its blinded value: the VOPRF output's bucket from the store, the
//     entry with its suffix, the listings that entry names (a listing the
//     catalogue no longer has, or one flagged fabricated, is not counted);
//  6. replies with one SMS segment (reply.go; segment.go counts them).
//
// # What SMS can check
//
// A CNIC or an IMEI, typed by anyone, as the web form does. A phone number
// only if it is the sender's own: sending from a number is the proof of
// owning it, so "ME" (or an empty message) checks the sender, and a message
// naming another number is told to send ME from that phone.
//
// # Privacy
//
// The server sees the identifier here, unlike on the website: SMS has no
// blinding. So nothing of it, of the sender or of the body reaches a log
// line (only the gateway, the command, the kind checked, the outcome and
// the language), an error message, a metric or a store (only the sender's
// keyed hash, as a counter key and a language preference, and the keyed
// hash of the gateway's message ID).
//
// What is kept expires: a sender's language choice
// khabardar.SMSPrefRetention (a year) after their last message, since every
// message answered reads it and so renews it; a message's ID hash after
// ReplayWindow (a day); the counters with their windows.
package sms
