package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// KeyError names a configuration key that is unknown or has a bad value,
// and where it was found: "file:line" or an environment variable.
type KeyError struct {
	Source string // file name, or "environment"
	Line   int    // 0 when unknown
	Key    string // dotted path such as console.listen, or the variable's name
	Err    error
}

func (e *KeyError) Error() string {
	where := e.Source
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.Source, e.Line)
	}
	return fmt.Sprintf("config %s: %s: %v", where, e.Key, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// ErrUnknownKey is the cause of a KeyError for a key the daemon does not have.
var ErrUnknownKey = errors.New("unknown key")

// load decodes the YAML file at path into dst (which holds the defaults),
// refusing unknown keys, then applies environment overrides whose names
// start with envPrefix. Every error is a *KeyError naming the key.
func load(path string, data []byte, envPrefix string, environ []string, dst any) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if len(root.Content) > 0 {
		if err := checkKeys(path, root.Content[0], reflect.TypeOf(dst).Elem(), ""); err != nil {
			return err
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(dst); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
	}
	return applyEnv(envPrefix, environ, dst)
}

// checkKeys walks a mapping node against the struct type t and reports the
// first key t has no field for, with its full dotted path and line.
func checkKeys(path string, n *yaml.Node, t reflect.Type, prefix string) error {
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode {
		return nil // scalars and lists: the decoder checks their types
	}
	fields := fieldsOf(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if k.Kind != yaml.ScalarNode || name == "" {
			name = "(empty or non-scalar key)" // a name must still appear in the message
		}
		f, ok := fields[k.Value]
		if !ok || k.Kind != yaml.ScalarNode {
			return &KeyError{Source: path, Line: k.Line, Key: prefix + name, Err: ErrUnknownKey}
		}
		if err := checkKeys(path, v, f.Type, prefix+k.Value+"."); err != nil {
			return err
		}
	}
	return nil
}

// fieldsOf maps YAML keys to the fields of struct t, flattening inline structs.
func fieldsOf(t reflect.Type) map[string]reflect.StructField {
	m := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if opts == "inline" {
			for k, v := range fieldsOf(f.Type) {
				v.Index = append([]int{i}, v.Index...)
				m[k] = v
			}
			continue
		}
		m[name] = f
	}
	return m
}

// leaves lists every settable scalar of struct value v by dotted key.
func leaves(v reflect.Value, prefix string, out map[string]reflect.Value) {
	for key, f := range fieldsOf(v.Type()) {
		fv := v.FieldByIndex(f.Index)
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Duration(0)) {
			leaves(fv, prefix+key+".", out)
			continue
		}
		out[prefix+key] = fv
	}
}

// EnvName is the environment variable that overrides key, e.g.
// SEALGATE_INNER_CONSOLE_LISTEN for console.listen.
func EnvName(prefix, key string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func applyEnv(prefix string, environ []string, dst any) error {
	known := map[string]reflect.Value{}
	leaves(reflect.ValueOf(dst).Elem(), "", known)
	byEnv := map[string]string{}
	for key := range known {
		byEnv[EnvName(prefix, key)] = key
	}
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		// CONFIG and DATABASE_OWNER_URL are the commands' flags (--config,
		// --owner-url of database migrate and restore), not keys.
		if !strings.HasPrefix(name, prefix) || name == prefix+"CONFIG" || name == prefix+"DATABASE_OWNER_URL" {
			continue
		}
		key, ok := byEnv[name]
		if !ok {
			return &KeyError{Source: "environment", Key: name, Err: ErrUnknownKey}
		}
		if err := setScalar(known[key], val); err != nil {
			return &KeyError{Source: "environment", Key: name, Err: err}
		}
	}
	return nil
}

func setScalar(v reflect.Value, s string) error {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items))
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(n))
	default:
		return fmt.Errorf("cannot be set from the environment (type %s)", v.Type())
	}
	return nil
}

func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return b, nil
}
