package export

import (
	"errors"
	"fmt"
	"slices"

	"sealgate/shared/i18n"
)

// Actor is the console user an action is taken for, as the console or the
// CLI's --as resolved them: the name, the role the account holds, and how
// they acted, so the audit chain tells a console click from a root shell.
type Actor struct {
	User   string
	Role   string
	Via    string // "console" or "cli"
	Remote string // client address, for the console
}

// Audited is the actor's name in the audit chain and the export's history:
// cli:<user> for the CLI (docs/architecture.md, "The export workflow").
func (a Actor) Audited() string {
	if a == Root {
		return "cli"
	}
	if a.Via == "cli" {
		return "cli:" + a.User
	}
	return a.User
}

// Root is the appliance's root shell acting without --as: it may keep the
// camera registry and ingest footage (it holds the files anyway), and is
// recorded as cli. It files and decides nothing: those need a person.
var Root = Actor{User: "root", Role: "root", Via: "cli"}

// Importer is the daemon taking footage in from the NVR export folder
// (footage.import_dir), recorded as import: it ingests and does nothing
// else.
var Importer = Actor{User: "import", Role: "importer", Via: "daemon"}

// Who may do what. Least privilege: operators register cameras, ingest
// footage and file requests; only approvers decide them; admins keep the
// camera registry; auditors and everyone above only read.
var (
	camerasRoles  = []string{"operator", "admin", "root"}
	footageRoles  = []string{"operator", "root", "importer"}
	requestRoles  = []string{"operator"}
	approverRoles = []string{"approver"}
	readerRoles   = []string{"operator", "approver", "auditor", "admin"}
)

// ErrForbidden is a refusal by role or by separation of duties; the
// refusal is audited as denied.
var ErrForbidden = errors.New("export: not allowed")

// ErrNotFound: no such camera, footage or export.
var ErrNotFound = errors.New("export: not found")

// ErrState: the export is not in a state the action applies to.
var ErrState = errors.New("export: not possible in this state")

func (a Actor) may(roles []string, what string) error {
	if a.User == "" {
		return fmt.Errorf("%w: no user given", ErrForbidden)
	}
	if !slices.Contains(roles, a.Role) {
		return fmt.Errorf("%w: %s needs the role %v; %s is %s", ErrForbidden, what, roles, a.User, a.Role)
	}
	return nil
}

// FieldError names the form field that is wrong and why, in words the
// console shows in the user's language.
type FieldError struct {
	Field   string // the form's and the CLI's name: reason, viewing_days…
	Problem string // message key suffix: required, too_long, choice, …
	Arg     any    // the bound or the choices, for the message
}

func (e *FieldError) Error() string { return e.Message("en") }

// Message is the error in lang: the field's label and the problem.
func (e *FieldError) Message(lang string) string {
	msg := i18n.T(lang, "field."+e.Problem)
	if e.Arg != nil {
		msg = i18n.T(lang, "field."+e.Problem, e.Arg)
	}
	return i18n.T(lang, "export.f."+e.Field) + ": " + msg
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

func (es FieldErrors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
