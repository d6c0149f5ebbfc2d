package modules

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/sethvargo/go-envconfig"
	"go.uber.org/fx"

	"github.com/fxpool/fxpool/pool"
)

// Environment is where the modules read their configuration variables.
// Without one in the graph they read the process environment; tests supply
// one made by [MapEnvironment] instead of changing the process's.
type Environment interface {
	// Lookup returns the value of the variable key and whether it is set.
	Lookup(key string) (string, bool)
}

// MapEnvironment returns an [Environment] holding exactly the variables in m.
func MapEnvironment(m map[string]string) Environment {
	return envconfig.MapLookuper(m)
}

// envParams is embedded by the configuration providers.
type envParams struct {
	fx.In

	Env Environment `optional:"true"`
}

func (p envParams) lookuper() envconfig.Lookuper {
	if p.Env == nil {
		return envconfig.OsLookuper()
	}
	return p.Env
}

// EnvError reports an environment variable whose value is not allowed.
type EnvError struct {
	Var    string // the whole variable name, such as WORKER_POOL_MAX_WORKERS
	Reason string // the rule, and the value unless the variable is secret
}

// Error returns the variable followed by the reason.
func (e *EnvError) Error() string {
	return fmt.Sprintf("config: %s %s", e.Var, e.Reason)
}

// fieldError is returned by the Validate methods of this package's
// configuration types. The loader turns it into an [EnvError].
type fieldError struct {
	field  string // Go field name
	reason string
}

func (e *fieldError) Error() string { return e.field + " " + e.reason }

// envField is one field of a configuration struct read from a variable.
type envField struct {
	name string // Go field name
	key  string // the whole variable name
	kind reflect.Kind
}

// loadEnv fills target, a pointer to a struct with go-envconfig tags, from
// the variables under prefix, then validates it. Unlike go-envconfig alone it
// treats a variable set to the empty string as unset, reads integers as
// plain decimal (so "010" is 10, never 8, and "0x10" is an error), and names
// the whole variable in every error.
func loadEnv(prefix string, target any, lookup envconfig.Lookuper) error {
	fields := envFields(prefix, target)
	values := make(map[string]string, len(fields))
	for _, f := range fields {
		v, ok := lookup.Lookup(f.key)
		if !ok || v == "" {
			continue
		}
		if f.kind == reflect.Int {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return &EnvError{f.key, fmt.Sprintf("must be a decimal integer, got %q", v)}
			}
			v = strconv.FormatInt(n, 10)
		}
		values[f.key] = v
	}

	err := envconfig.ProcessWith(context.Background(), &envconfig.Config{
		Target:   target,
		Lookuper: envconfig.PrefixLookuper(prefix, envconfig.MapLookuper(values)),
	})
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}

	v, ok := target.(interface{ Validate() error })
	if !ok {
		return nil
	}
	return envError(v.Validate(), fields)
}

// envError rewrites a validation error so that it names the variable.
func envError(err error, fields []envField) error {
	keyOf := func(field string) string {
		for _, f := range fields {
			if f.name == field {
				return f.key
			}
		}
		return field
	}

	var ce *pool.ConfigError
	var fe *fieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return &EnvError{keyOf(ce.Field), fmt.Sprintf("must be between %d and %d, got %d",
			ce.Min, ce.Max, ce.Got)}
	case errors.As(err, &fe):
		return &EnvError{keyOf(fe.field), fe.reason}
	default:
		return fmt.Errorf("config: %w", err)
	}
}

func envFields(prefix string, target any) []envField {
	t := reflect.TypeOf(target).Elem()
	var fields []envField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("env")
		if !ok {
			continue
		}
		key, _, _ := strings.Cut(tag, ",")
		fields = append(fields, envField{f.Name, prefix + key, f.Type.Kind()})
	}
	return fields
}
