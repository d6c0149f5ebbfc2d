package notification

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"go.uber.org/zap"
)

// MaxBodyBytes is the largest request body, in bytes, that the handler from
// [NewHandler] reads. A larger body gets 413.
const MaxBodyBytes = 64 << 10

// Notifier accepts a notification for delivery and returns its ID.
// [*Service] implements it; tests and other front ends may supply their own.
// Implementations must be safe for concurrent use.
type Notifier interface {
	Notify(ctx context.Context, n Notification) (string, error)
}

var _ Notifier = (*Service)(nil)

// HandlerConfig holds the settings of the handler from [NewHandler].
type HandlerConfig struct {
	// Token, when not empty, is the bearer token every request must carry in
	// "Authorization: Bearer <token>". The handler never logs or echoes it.
	Token string

	// Logger receives unexpected errors from the [Notifier]. It never sees
	// request bodies or the token. Default zap.NewNop().
	Logger *zap.Logger

	// OnMalformed, when not nil, is called for each request refused before
	// it reaches the Notifier because of its body or Content-Type (400,
	// 413 or 415), so that such requests are counted with the invalid ones;
	// [Service.RejectMalformed] does that. It must be safe for concurrent
	// use.
	OnMalformed func()
}

// NewHandler returns the handler of POST /v1/notifications. The caller mounts
// it at that path; the handler does not look at the URL. It checks, in order:
// the method (405), the bearer token when cfg.Token is set (401), the
// Content-Type (415), the body size against [MaxBodyBytes] (413), and the
// body, which must be one JSON object without unknown fields (400). It then
// calls n.Notify with the request's context and answers 202 with the ID, 400
// for an error matching [ErrInvalid], 503 with Retry-After for [ErrQueueFull]
// and [ErrShuttingDown], and 500 for anything else. Every response is JSON;
// errors read {"error": "..."}. The handler is safe for concurrent use.
func NewHandler(n Notifier, cfg HandlerConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &handler{
		notifier:  n,
		needToken: cfg.Token != "",
		tokenSum:  sha256.Sum256([]byte(cfg.Token)),
		log:       cfg.Logger.Named("http"),
		malformed: cfg.OnMalformed,
	}
}

// handler keeps only a digest of the token, so that nothing in it can leak
// the token itself.
type handler struct {
	notifier  Notifier
	needToken bool
	tokenSum  [sha256.Size]byte
	log       *zap.Logger
	malformed func()
}

// httpError is a response that ends a request early.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(msg string) error {
	return &httpError{status: http.StatusBadRequest, msg: msg}
}

var errTooLarge = &httpError{
	status: http.StatusRequestEntityTooLarge,
	msg:    fmt.Sprintf("request body must be at most %d bytes", MaxBodyBytes),
}

// ServeHTTP answers one request as [NewHandler] describes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method must be POST")
		return
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, "missing or invalid bearer token")
		return
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		h.refuse()
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}

	n, err := readNotification(w, r)
	if he := (*httpError)(nil); errors.As(err, &he) {
		h.refuse()
		writeError(w, he.status, he.msg)
		return
	}
	h.notify(w, r, n)
}

// refuse counts a request refused for its body or Content-Type.
func (h *handler) refuse() {
	if h.malformed != nil {
		h.malformed()
	}
}

// authorized compares SHA-256 digests rather than the tokens themselves, so
// that the comparison takes the same time whatever the length of either.
func (h *handler) authorized(r *http.Request) bool {
	if !h.needToken {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimLeft(token, " ")))
	return subtle.ConstantTimeCompare(sum[:], h.tokenSum[:]) == 1
}

// isJSON accepts application/json with no charset or with UTF-8, the only
// encoding JSON allows between systems.
func isJSON(contentType string) bool {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8")
}

func (h *handler) notify(w http.ResponseWriter, r *http.Request, n Notification) {
	id, err := h.notifier.Notify(r.Context(), n)
	switch {
	case err == nil:
		writeJSON(w, http.StatusAccepted, acceptedBody{ID: id})
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrQueueFull):
		writeUnavailable(w, "queue full")
	case errors.Is(err, ErrShuttingDown):
		writeUnavailable(w, "service is shutting down")
	default:
		h.logFailure(r, cmp.Or(id, n.ID), err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

// logFailure logs an unexpected error from the notifier. A client that went
// away is not a bug, so it is only worth a debug line.
func (h *handler) logFailure(r *http.Request, id string, err error) {
	idField := zap.Skip()
	if id != "" {
		idField = zap.String("id", id)
	}
	if r.Context().Err() != nil {
		h.log.Debug("request canceled", idField, zap.Error(err))
		return
	}
	h.log.Error("notify failed", idField, zap.Error(err))
}

// readNotification reads and decodes the request body. Its errors are
// [*httpError] values whose messages are safe to send to the client.
func readNotification(w http.ResponseWriter, r *http.Request) (Notification, error) {
	body, err := readBody(w, r)
	if err != nil {
		return Notification{}, err
	}
	return decodeNotification(body)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, errTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, badRequest("request body could not be read")
	}
	return body, nil
}

// decodeNotification checks the raw body before decoding it, because
// encoding/json silently replaces invalid UTF-8 with U+FFFD and decodes null
// into a zero struct.
func decodeNotification(body []byte) (Notification, error) {
	if !utf8.Valid(body) {
		return Notification{}, badRequest("request body must be valid UTF-8")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return Notification{}, badRequest("request body is empty")
	}
	if trimmed[0] != '{' {
		if json.Valid(body) {
			return Notification{}, badRequest("request body must be a JSON object")
		}
		return Notification{}, badRequest("request body is not valid JSON")
	}

	var n Notification
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		return Notification{}, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Notification{}, badRequest("request body must hold a single JSON object")
	}
	if err := checkFieldNames(body); err != nil {
		return Notification{}, err
	}
	return n, nil
}

// checkFieldNames rejects top-level names that differ from the fields of
// [Notification] only in case. encoding/json matches names without regard
// to case, so {"RECIPIENT": ...} would otherwise pass as "recipient".
func checkFieldNames(body []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return badRequest("request body is not valid JSON")
	}
	for name := range fields {
		if _, ok := notificationFields[name]; !ok {
			return badRequest(fmt.Sprintf("unknown field %q", name))
		}
	}
	return nil
}

// decodeError turns an error from json.Decoder.Decode into a message that
// names the field at fault. encoding/json has no type for unknown fields, so
// that case is recognised by its message.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return badRequest("request body must be a JSON object")
		}
		return badRequest(typeError(te))
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badRequest("unknown field " + field)
	}
	if errors.Is(err, io.EOF) {
		return badRequest("request body is empty")
	}
	return badRequest("request body is not valid JSON")
}

// notificationFields maps the JSON name of each field of [Notification] to its
// type.
var notificationFields = func() map[string]reflect.Type {
	t := reflect.TypeFor[Notification]()
	fields := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		fields[name] = f.Type
	}
	return fields
}()

// typeError names the top-level field of a type mismatch and what it must be.
// For a bad value inside metadata, encoding/json reports the map's element
// type, so the message describes the whole field instead.
func typeError(te *json.UnmarshalTypeError) string {
	name, _, _ := strings.Cut(te.Field, ".")
	t, ok := notificationFields[name]
	if !ok {
		t = te.Type
	}
	return fmt.Sprintf("field %q must be %s", name, jsonKind(t))
}

// jsonKind describes the JSON value that decodes into t.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Map:
		if t.Elem().Kind() == reflect.String {
			return "an object of strings"
		}
		return "an object"
	case reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	default:
		return "of another type"
	}
}

type acceptedBody struct {
	ID string `json:"id"`
}

type errorBody struct {
	Error string `json:"error"`
}

func writeUnavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, msg)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// writeJSON writes v, a struct of strings, as the whole response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v) // a struct of strings always marshals
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
