// Package requester keeps the personal data of an export's requesting
// officer (name, phone) encrypted at rest, and says who sees it
// (docs/ledger.md, "Personal data"). inner/export writes and reads it,
// inner/ledger reads and searches it, the console shows it through [Shown].
//
// Each value is sealed with the account service's [account.PII]
// (AES-256-GCM under pii.key), its associated data binding it to its
// column and to the export's row ("export/<id>"), so a ciphertext copied
// to another row or column fails to open. The name also gets a keyed blind
// index for the ledger's exact-match filter. The agency and the document
// number name an office and a file, not a person, and stay in clear.
package requester

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"sealgate/shared/account"
)

// The columns, as the associated data names them.
const (
	ColName  = "export.requester_name"
	ColPhone = "export.requester_phone"
)

// ErrNoKey: personal data read or written without the pii key.
var ErrNoKey = errors.New("requester: no personal-data key (pii.key) was given")

// Row is the associated data's row key of export id.
func Row(id int64) string { return "export/" + strconv.FormatInt(id, 10) }

// Sealed is one export's requester as stored.
type Sealed struct {
	Name, Phone, NameIndex []byte
}

// Seal encrypts name and phone for export id; an empty phone stays nil.
func Seal(p *account.PII, id int64, name, phone string) (Sealed, error) {
	if p == nil {
		return Sealed{}, ErrNoKey
	}
	row := Row(id)
	return Sealed{Name: p.Seal(ColName, row, name), Phone: p.Seal(ColPhone, row, phone), NameIndex: Index(p, name)}, nil
}

// Open decrypts export id's name and phone. A value moved from another
// row or column, or altered, is an error naming the export.
func Open(p *account.PII, id int64, name, phone []byte) (string, string, error) {
	if p == nil {
		if len(name) == 0 && len(phone) == 0 {
			return "", "", nil
		}
		return "", "", ErrNoKey
	}
	n, err := p.Open(ColName, Row(id), name)
	if err != nil {
		return "", "", fmt.Errorf("requester: the name of export %d: %w", id, err)
	}
	ph, err := p.Open(ColPhone, Row(id), phone)
	if err != nil {
		return "", "", fmt.Errorf("requester: the phone of export %d: %w", id, err)
	}
	return n, ph, nil
}

// Index is the blind index of a name: case and spacing folded, so
// "Kim  Minsu" finds "kim minsu"; nil for an empty name.
func Index(p *account.PII, name string) []byte { return p.Index(ColName, name) }

// Who sees what of a requester. Least privilege (PIPA art. 3, 29): the
// operators and approvers who handle the request call the officer back,
// the auditors check the ledger against the request documents; the system
// administrator keeps the appliance and needs neither, so sees the name
// masked and no phone. Any other role sees nothing.
var (
	fullRoles   = []string{"operator", "approver", "auditor"}
	maskedRoles = []string{"admin"}
)

// Shown is what role may see of a requester's name and phone. Every page,
// print and download that shows a requester goes through it.
func Shown(role, name, phone string) (string, string) {
	for _, r := range fullRoles {
		if r == role {
			return name, phone
		}
	}
	for _, r := range maskedRoles {
		if r == role {
			return Mask(name), ""
		}
	}
	return "", ""
}

// Mask hides all of a name but each word's first letter, and the last of
// a Korean name of three letters or more, as Korean notices do:
// "김민수" → "김*수", "경위 김민수" → "경* 김*수", "John Doe" → "J*** D**".
func Mask(name string) string {
	words := strings.Fields(name)
	for i, w := range words {
		rs := []rune(w)
		n := utf8.RuneCountInString(w)
		switch {
		case n <= 1:
			words[i] = "*"
		case n >= 3 && unicode.Is(unicode.Hangul, rs[n-1]):
			words[i] = string(rs[0]) + strings.Repeat("*", n-2) + string(rs[n-1])
		default:
			words[i] = string(rs[0]) + strings.Repeat("*", n-1)
		}
	}
	return strings.Join(words, " ")
}
