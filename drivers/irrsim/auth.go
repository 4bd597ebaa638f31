package irrsim

import (
	"bytes"
	"crypto/md5"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"golang.org/x/crypto/bcrypt"

	"github.com/netrecon/netrecon/rpsl"
)

// credentials are what a submission offers to authenticate: the passwords of
// its "password:" lines and the key that clear-signed it, if any.
type credentials struct {
	passwords []string
	// pgpKey is "PGPKEY-XXXXXXXX", the signer's short key ID, as mntner
	// auth: lines name a key-cert.
	pgpKey string
}

// authenticates reports whether one of the mntner's auth: lines accepts the
// credentials (RFC 2725 §8, as IRRd and RIPE implement it).
func authenticates(mntner *rpsl.Object, c credentials) bool {
	for _, line := range mntner.GetAll("auth") {
		scheme, hash, _ := strings.Cut(strings.TrimSpace(line), " ")
		hash = strings.TrimSpace(hash)
		switch strings.ToUpper(scheme) {
		case "BCRYPT-PW":
			for _, p := range c.passwords {
				if bcrypt.CompareHashAndPassword([]byte(hash), []byte(p)) == nil {
					return true
				}
			}
		case "MD5-PW":
			for _, p := range c.passwords {
				if got, ok := md5Crypt(p, hash); ok && subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1 {
					return true
				}
			}
		default:
			if c.pgpKey != "" && strings.EqualFold(strings.TrimSpace(line), c.pgpKey) {
				return true
			}
		}
	}
	return false
}

// md5Crypt computes the FreeBSD MD5-based crypt(3) ("$1$salt$hash") of
// password with the salt of hash, the scheme RPSL's MD5-PW names. ok is false
// when hash is not of that form.
func md5Crypt(password, hash string) (string, bool) {
	const magic = "$1$"
	rest, found := strings.CutPrefix(hash, magic)
	if !found {
		return "", false
	}
	salt, _, _ := strings.Cut(rest, "$")
	if len(salt) > 8 {
		salt = salt[:8]
	}
	pw := []byte(password)
	alt := md5.Sum(append(append(append([]byte{}, pw...), salt...), pw...))
	h := md5.New()
	h.Write(pw)
	h.Write([]byte(magic))
	h.Write([]byte(salt))
	for n := len(pw); n > 0; n -= 16 {
		h.Write(alt[:min(n, 16)])
	}
	for n := len(pw); n != 0; n >>= 1 {
		if n&1 != 0 {
			h.Write([]byte{0})
		} else {
			h.Write(pw[:1])
		}
	}
	final := h.Sum(nil)
	// A thousand rounds, to slow down guessing (the scheme's own rule).
	for i := 0; i < 1000; i++ {
		r := md5.New()
		if i&1 != 0 {
			r.Write(pw)
		} else {
			r.Write(final)
		}
		if i%3 != 0 {
			r.Write([]byte(salt))
		}
		if i%7 != 0 {
			r.Write(pw)
		}
		if i&1 != 0 {
			r.Write(final)
		} else {
			r.Write(pw)
		}
		final = r.Sum(nil)
	}
	const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var out strings.Builder
	enc := func(v uint32, n int) {
		for ; n > 0; n-- {
			out.WriteByte(itoa64[v&0x3f])
			v >>= 6
		}
	}
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		enc(uint32(final[g[0]])<<16|uint32(final[g[1]])<<8|uint32(final[g[2]]), 4)
	}
	enc(uint32(final[11]), 2)
	return magic + salt + "$" + out.String(), true
}

// verifyClearsigned checks a PGP clear-signed text (RFC 4880 §7) against the
// public keys of the database's key-cert objects. It returns the signed text
// and the signer as "PGPKEY-XXXXXXXX"; a text that is not clear-signed comes
// back as it is, with no signer.
func (db *Database) verifyClearsigned(text []byte) ([]byte, string, error) {
	block, _ := clearsign.Decode(text)
	if block == nil {
		return text, "", nil
	}
	ring := db.keyRing()
	signer, err := openpgp.CheckDetachedSignature(ring, bytes.NewReader(block.Bytes), block.ArmoredSignature.Body, nil)
	if err != nil {
		return nil, "", fmt.Errorf("PGP signature not valid for any key-cert in %s: %v", db.name, err)
	}
	return block.Plaintext, keyCertName(signer), nil
}

// verifyDetached checks an armored detached signature (PGP/MIME) of signed.
func (db *Database) verifyDetached(signed, armored []byte) (string, error) {
	signer, err := openpgp.CheckArmoredDetachedSignature(db.keyRing(), bytes.NewReader(signed), bytes.NewReader(armored), nil)
	if err != nil {
		return "", fmt.Errorf("PGP signature not valid for any key-cert in %s: %v", db.name, err)
	}
	return keyCertName(signer), nil
}

// keyCertName is the key-cert name of a key: "PGPKEY-" and its short ID.
func keyCertName(e *openpgp.Entity) string {
	return fmt.Sprintf("PGPKEY-%08X", uint32(e.PrimaryKey.KeyId))
}

// keyRing holds the public keys of the database's key-cert objects.
func (db *Database) keyRing() openpgp.EntityList {
	var ring openpgp.EntityList
	for _, kc := range db.store.sorted(func(o *rpsl.Object) bool { return o.Class() == "key-cert" }) {
		cert, _ := kc.Get("certif")
		keys, err := openpgp.ReadArmoredKeyRing(strings.NewReader(cert))
		if err != nil {
			db.log.Warn("key-cert does not hold a readable public key", "key_cert", kc.Key(), "err", err)
			continue
		}
		ring = append(ring, keys...)
	}
	return ring
}
