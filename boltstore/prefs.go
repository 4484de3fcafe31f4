package boltstore

import (
	"context"

	"github.com/khabardar/khabardar"
	bolt "go.etcd.io/bbolt"
)

// smsPrefsBucket maps a sender's keyed hash (hex, as given) to the reply
// language they chose. Created by the first write.
var smsPrefsBucket = []byte("sms_prefs")

var _ khabardar.PrefStore = (*Store)(nil)

// SMSLanguage returns the language the sender chose.
func (s *Store) SMSLanguage(ctx context.Context, senderHash string) (string, error) {
	if _, err := s.initLayout(); err != nil {
		return "", err
	}
	if err := khabardar.CheckSenderHash(senderHash); err != nil {
		return "", err
	}
	var lang string
	err := s.view(ctx, "reading the sms preferences", func(tx *bolt.Tx) error {
		if b := tx.Bucket(smsPrefsBucket); b != nil {
			lang = string(b.Get([]byte(senderHash)))
		}
		if lang == "" {
			return khabardar.Errorf(khabardar.ENOTFOUND, "no sms language chosen")
		}
		return nil
	})
	return lang, err
}

// SetSMSLanguage records the sender's choice.
func (s *Store) SetSMSLanguage(ctx context.Context, senderHash, lang string) error {
	if _, err := s.initLayout(); err != nil {
		return err
	}
	if err := khabardar.CheckSenderHash(senderHash); err != nil {
		return err
	}
	if err := khabardar.CheckSMSLanguage(lang); err != nil {
		return err
	}
	return s.update(ctx, "saving the sms preferences", func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(smsPrefsBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(senderHash), []byte(lang))
	})
}
