package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/hashing"
	"github.com/khabardar/khabardar/ratelimit"
	"github.com/khabardar/khabardar/wire"
)

// elementTextLen is the length of a 32-byte element in base64url without
// padding.
var elementTextLen = base64.RawURLEncoding.EncodedLen(hashing.ElementSize)

// b64 is base64url without padding, refusing non-zero trailing bits, so that
// an element has exactly one accepted spelling.
var b64 = base64.RawURLEncoding.Strict()

// evaluate is POST /v1/evaluate: the whole batch under one DLEQ proof.
// Every check runs before the caller's quota is charged, so a malformed
// request costs the caller nothing and the server no evaluation.
func (s *Server) evaluate(c *fiber.Ctx) error {
	who, err := s.caller(c)
	if err != nil {
		return err
	}
	// The raw body: fiber's c.Body() would decode a Content-Encoding
	// (checkRequest refuses one anyway).
	blinded, err := checkEvaluate(c.Request().Header.ContentType(), c.Request().Body(), who.maxBatch, s.cfg.Key.ID())
	if err != nil {
		return err
	}
	if err := s.charge(c, ratelimit.Evaluate, who, int64(blinded.Len())); err != nil {
		return err
	}
	evaluated, proof, err := s.cfg.Key.EvaluateBatch(blinded)
	if err != nil {
		return err // checkEvaluate admits only elements Evaluate accepts: a fault of ours
	}
	s.metrics.evaluated.Add(float64(len(evaluated)))
	out := appendEvaluateResponse(nil, s.cfg.Key.ID(), evaluated, proof)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Response().SetBodyRaw(out) // a new slice: no copy needed
	return nil
}

// appendEvaluateResponse appends wire.EvaluateResponse{keyID, evaluated and
// proof in base64url} to b, exactly as encoding/json writes it
// (TestHandEncoders), without its reflection: only the key id can need
// escaping.
func appendEvaluateResponse(b []byte, keyID string, evaluated [][]byte, proof []byte) []byte {
	enc := base64.RawURLEncoding
	b = slices.Grow(b, 64+len(keyID)+len(evaluated)*(enc.EncodedLen(hashing.ElementSize)+3)+enc.EncodedLen(len(proof)))
	b = append(b, `{"key_id":`...)
	b = appendJSONString(b, keyID)
	b = append(b, `,"evaluated":[`...)
	for i, e := range evaluated {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = enc.AppendEncode(b, e)
		b = append(b, '"')
	}
	b = append(b, `],"proof":"`...)
	b = enc.AppendEncode(b, proof)
	return append(b, `"}`...)
}

// checkEvaluate runs every check of an evaluation request that needs neither
// the store nor the limiter, in the order openapi.yaml gives: media type,
// size, JSON, fields, batch size, key id, elements. It returns the decoded
// elements, decoded once. Its errors are *khabardar.Error values whose
// messages hold no byte of the request: at most an element's index or a
// byte offset.
func checkEvaluate(contentType, body []byte, maxBatch int, keyID string) (*hashing.BlindedBatch, error) {
	if !isJSON(contentType) {
		return nil, khabardar.Errorf(wire.CodeUnsupportedMediaType, "send the body as Content-Type: application/json")
	}
	if limit := wire.EvaluateBodyLimit(maxBatch); len(body) > limit {
		return nil, khabardar.Errorf(wire.CodeBodyTooLarge, "the body is over %d bytes, the limit for a batch of %d", limit, maxBatch)
	}
	req, err := decodeEvaluate(body, maxBatch)
	if err != nil {
		return nil, err
	}
	if req.keyID != keyID {
		return nil, khabardar.Errorf(wire.CodeKeyRotated, "the server's key is now %s: fetch /v1/config, then blind again with its public key", keyID)
	}
	return parseElements(req.blinded)
}

// isJSON reports whether a Content-Type is application/json, with or
// without parameters.
func isJSON(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return bytes.EqualFold(bytes.TrimSpace(ct), []byte(fiber.MIMEApplicationJSON))
}

// evaluateRequest is a decoded POST /v1/evaluate body. The elements are
// still text: parseElements decodes them once the key id is checked.
type evaluateRequest struct {
	keyID   string
	blinded []string
}

// decodeEvaluate decodes {"key_id": "…", "blinded": ["…", …]} strictly, after
// exposure-notifications-server's jsonutil.Unmarshal: one JSON value and
// nothing after it, no unknown fields; and, beyond encoding/json, no
// duplicate field (a second "key_id" would otherwise silently win), no
// case-insensitive field match, and no more than maxBatch elements read.
func decodeEvaluate(body []byte, maxBatch int) (*evaluateRequest, error) {
	// The syntax of the whole body first, so that a syntax error anywhere is
	// reported as one rather than as whatever precedes it. json.Valid
	// allocates nothing; the decoder runs only to word a refusal.
	if !json.Valid(body) {
		return nil, syntaxError(body)
	}
	// Then the shape, walking the now valid JSON: a value of the wrong type
	// is refused at its first byte, so nesting depth costs nothing.
	w := walker{b: body}
	if w.next() != '{' {
		return nil, khabardar.Errorf(khabardar.EINVALID, `the body must be a JSON object {"key_id": …, "blinded": […]}`)
	}
	w.i++
	var req evaluateRequest
	var seenKey, seenBlinded bool
	for w.next() != '}' {
		name := w.str()
		w.next() // :
		w.i++
		switch name {
		case "key_id":
			if seenKey {
				return nil, khabardar.Errorf(khabardar.EINVALID, "key_id appears twice")
			}
			seenKey = true
			if w.next() != '"' {
				return nil, khabardar.Errorf(khabardar.EINVALID, "key_id must be a string: the key_id of /v1/config")
			}
			req.keyID = w.str()
		case "blinded":
			if seenBlinded {
				return nil, khabardar.Errorf(khabardar.EINVALID, "blinded appears twice")
			}
			seenBlinded = true
			if w.next() != '[' {
				return nil, khabardar.Errorf(khabardar.EINVALID, "blinded must be an array of base64url strings")
			}
			w.i++
			req.blinded = make([]string, 0, min(maxBatch, 16))
			for w.next() != ']' {
				if len(req.blinded) == maxBatch {
					return nil, khabardar.Errorf(wire.CodeBatchTooLarge, "blinded has more than %d elements, the most this caller may send at once", maxBatch)
				}
				if w.next() != '"' {
					return nil, khabardar.Errorf(wire.CodeBadElement, "blinded[%d] is not a string", len(req.blinded))
				}
				req.blinded = append(req.blinded, w.str())
				if w.next() == ',' {
					w.i++
				}
			}
			w.i++
		default:
			return nil, khabardar.Errorf(wire.CodeUnknownField, "the body may hold only the fields key_id and blinded")
		}
		if w.next() == ',' {
			w.i++
		}
	}
	switch {
	case !seenKey:
		return nil, khabardar.Errorf(khabardar.EINVALID, "key_id is missing: send the key_id of /v1/config")
	case !seenBlinded:
		return nil, khabardar.Errorf(khabardar.EINVALID, "blinded is missing: send an array of blinded elements")
	case len(req.blinded) == 0:
		return nil, khabardar.Errorf(wire.CodeEmptyBatch, "blinded is empty: send at least one element")
	}
	return &req, nil
}

// syntaxError words why body, which json.Valid refused, is not one JSON
// value.
func syntaxError(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	err := dec.Decode(&raw)
	var syn *json.SyntaxError
	switch {
	case err == nil: // one value, then more
		return khabardar.Errorf(wire.CodeMalformedJSON, "the body has more after its JSON value: send exactly one")
	case errors.Is(err, io.EOF):
		return khabardar.Errorf(wire.CodeMalformedJSON, "the body is empty: send a JSON object")
	case errors.As(err, &syn):
		return khabardar.Errorf(wire.CodeMalformedJSON, "the body is not valid JSON (byte %d)", syn.Offset)
	default: // io.ErrUnexpectedEOF
		return khabardar.Errorf(wire.CodeMalformedJSON, "the body ends inside a JSON value")
	}
}

// walker reads JSON that json.Valid has accepted, so it checks nothing of
// the syntax: only which kind of value comes next.
type walker struct {
	b []byte
	i int
}

// next skips white space and returns the next byte (0 at the end).
func (w *walker) next() byte {
	for w.i < len(w.b) {
		switch c := w.b[w.i]; c {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return c
		}
	}
	return 0
}

// str reads the string at w.i, which next has found to start with '"'.
func (w *walker) str() string {
	start, escaped := w.i, false
	w.i++
	for w.b[w.i] != '"' {
		if w.b[w.i] == '\\' {
			escaped = true
			w.i++
		}
		w.i++
	}
	w.i++
	lit := w.b[start:w.i]
	if !escaped && utf8.Valid(lit) {
		return string(lit[1 : len(lit)-1])
	}
	// Escapes and invalid UTF-8 exactly as encoding/json reads them.
	var s string
	json.Unmarshal(lit, &s)
	return s
}

// parseElements decodes each element from base64url and has hashing check
// it is a valid, non-identity ristretto255 element: the group stays in
// package hashing.
func parseElements(texts []string) (*hashing.BlindedBatch, error) {
	buf := make([]byte, len(texts)*hashing.ElementSize)
	raw := make([][]byte, len(texts))
	for i, s := range texts {
		b := buf[i*hashing.ElementSize : (i+1)*hashing.ElementSize : (i+1)*hashing.ElementSize]
		// The length first: the decoder skips CR and LF, so only a string
		// of exactly elementTextLen characters that decodes to exactly 32
		// bytes is one element's encoding.
		if len(s) != elementTextLen || strings.ContainsAny(s, "\r\n") {
			return nil, khabardar.Errorf(wire.CodeBadElement, "blinded[%d] is not 32 bytes in base64url without padding", i)
		}
		if n, err := b64.Decode(b, []byte(s)); err != nil || n != hashing.ElementSize {
			return nil, khabardar.Errorf(wire.CodeBadElement, "blinded[%d] is not 32 bytes in base64url without padding", i)
		}
		raw[i] = b
	}
	batch, err := hashing.ParseBlinded(raw)
	var bad *hashing.BadElementError
	if errors.As(err, &bad) {
		return nil, khabardar.Errorf(wire.CodeBadElement, "blinded[%d] is not a valid non-identity ristretto255 element", bad.Index)
	}
	return batch, err
}
