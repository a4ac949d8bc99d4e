package officers

import (
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"sealgate/shared/account"
	"sealgate/shared/i18n"
)

// Person is an officer's personal data.
type Person struct {
	FullName, Agency string
	Badge            string // badge number, upper case without spaces or hyphens
	Phone, Email     string
}

// Form is what a visitor fills in to register, or an admin to create an
// officer directly (without the password, which is then generated).
type Form struct {
	Person
	Username          string
	Password, Confirm string
}

// Fields of the form, in its order: the names of the form's inputs.
const (
	FieldFullName = "full_name"
	FieldAgency   = "agency"
	FieldBadge    = "badge"
	FieldPhone    = "phone"
	FieldEmail    = "email"
	FieldUsername = "username"
	FieldPassword = "password"
	FieldConfirm  = "confirm"
)

// FieldError names the field that is wrong and why.
type FieldError struct {
	Field string
	Key   string // the message key of the problem (shared/i18n)
	Arg   any    // the bound or the choices, for the message; nil: none
}

func (e *FieldError) Error() string { return e.Message("en") }

// Message is the error in lang: the field's label and the problem.
func (e *FieldError) Message(lang string) string {
	msg := i18n.T(lang, e.Key)
	if e.Arg != nil {
		msg = i18n.T(lang, e.Key, e.Arg)
	}
	return i18n.T(lang, "officers.f."+e.Field) + ": " + msg
}

// FieldErrors are all the wrong fields of one form, in form order.
type FieldErrors []*FieldError

func (es FieldErrors) Error() string {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errors.Join(errs...).Error()
}

// Field returns the error of one field, or nil.
func (es FieldErrors) Field(name string) *FieldError {
	for _, e := range es {
		if e.Field == name {
			return e
		}
	}
	return nil
}

// Bounds of the fields, in characters.
const (
	maxName   = 50
	maxAgency = 100
	maxEmail  = 254 // RFC 5321's path limit
)

var badgeRE = regexp.MustCompile(`^[0-9A-Z]{4,20}$`)

// check cleans f (spacing trimmed, the badge upper-cased without spaces or
// hyphens, the e-mail and the user name lower-cased) and returns every
// wrong field at once; withPassword checks the chosen password too.
func (r *Registry) check(f *Form, withPassword bool) error {
	var es FieldErrors
	bad := func(field, key string, arg any) { es = append(es, &FieldError{Field: field, Key: key, Arg: arg}) }
	text := func(field string, v *string, limit int) {
		*v = strings.Join(strings.Fields(*v), " ")
		switch {
		case *v == "":
			bad(field, "officers.p.required", nil)
		case utf8.RuneCountInString(*v) > limit:
			bad(field, "officers.p.too_long", limit)
		case strings.IndexFunc(*v, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
			bad(field, "officers.p.control", nil)
		}
	}
	text(FieldFullName, &f.FullName, maxName)
	text(FieldAgency, &f.Agency, maxAgency)

	f.Badge = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(f.Badge)))
	switch {
	case f.Badge == "":
		bad(FieldBadge, "officers.p.required", nil)
	case !badgeRE.MatchString(f.Badge):
		bad(FieldBadge, "officers.p.badge", nil)
	}

	f.Phone = strings.TrimSpace(f.Phone)
	digits := 0
	for _, c := range f.Phone {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case strings.ContainsRune(" -+()", c):
		default:
			digits = -100
		}
	}
	switch {
	case f.Phone == "":
		bad(FieldPhone, "officers.p.required", nil)
	case digits < 9 || digits > 15:
		bad(FieldPhone, "officers.p.phone", nil)
	}

	f.Email = strings.ToLower(strings.TrimSpace(f.Email))
	switch {
	case f.Email == "":
		bad(FieldEmail, "officers.p.required", nil)
	case len(f.Email) > maxEmail || !plainAddress(f.Email):
		bad(FieldEmail, "officers.p.email", nil)
	case !r.allowedDomain(f.Email):
		bad(FieldEmail, "officers.p.email_domain", strings.Join(r.domains, ", "))
	}

	f.Username = strings.ToLower(strings.TrimSpace(f.Username))
	switch {
	case f.Username == "":
		bad(FieldUsername, "officers.p.required", nil)
	case !account.ValidUsername(f.Username):
		bad(FieldUsername, "officers.p.username", nil)
	}

	if withPassword {
		var pe *account.PolicyError
		switch err := account.CheckPassword(f.Password, f.Username, f.FullName, f.Agency); {
		case errors.As(err, &pe):
			bad(FieldPassword, pe.Reason, nil)
		case err != nil:
			return err
		case f.Confirm != f.Password:
			bad(FieldConfirm, "pw.mismatch", nil)
		}
	}
	if len(es) == 0 {
		return nil
	}
	return es
}

// plainAddress reports a bare address (no display name, no comments).
func plainAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Count(s, "@") == 1
}

// allowedDomain reports whether the address's domain is one of the
// configured official domains or under one; none configured: any.
func (r *Registry) allowedDomain(addr string) bool {
	if len(r.domains) == 0 {
		return true
	}
	_, domain, _ := strings.Cut(addr, "@")
	for _, d := range r.domains {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}
