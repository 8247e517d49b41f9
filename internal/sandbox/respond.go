package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/billharness/billharness/internal/billing"
)

// errorResp builds the error envelope [chosen]:
// {"error":{"code":…,"message":…,"field":…,"request_id":…}}.
func (s *Server) errorResp(c *call, status int, code, field, msg string) response {
	body, err := json.Marshal(billing.ErrorBody{Error: billing.ErrorDetail{
		Code: code, Message: msg, Field: field, RequestID: c.reqID,
	}})
	if err != nil { // cannot happen: only strings
		body = []byte(`{"error":{"code":"internal_error","message":"internal error"}}`)
	}
	return response{status: status, body: body}
}

// invalid is a 422 validation_failed naming field.
func (s *Server) invalid(c *call, field, msg string) response {
	return s.errorResp(c, http.StatusUnprocessableEntity, "validation_failed", field, msg)
}

func (s *Server) fieldErr(c *call, fe *fieldError) response {
	return s.invalid(c, fe.field, fe.msg)
}

func (s *Server) badJSON(c *call, err error) response {
	return s.errorResp(c, http.StatusBadRequest, "invalid_json", "", "malformed JSON body: "+err.Error())
}

func (s *Server) notFound(c *call, what string) response {
	return s.errorResp(c, http.StatusNotFound, "not_found", "", "no "+what+" "+c.param)
}

// json encodes v as the response body.
func (s *Server) json(c *call, status int, v any) response {
	body, err := json.Marshal(v)
	if err != nil {
		s.log.Error("sandbox encode response", "path", c.r.URL.Path, "err", err)
		return s.errorResp(c, http.StatusInternalServerError, "internal_error", "", "internal error")
	}
	return response{status: status, body: body}
}

// decode parses a JSON object body into v: malformed JSON is 400
// invalid_json; well-formed JSON of the wrong shape is 422 naming the
// field (or no field when the body is not an object). An empty body reads
// as {} when emptyOK.
func (s *Server) decode(c *call, v any, emptyOK bool) (response, bool) {
	body := c.body
	sc := scanner{b: body}
	if emptyOK && sc.atEnd() {
		return response{}, true
	}
	kind, err := sc.value()
	if err == nil {
		err = sc.end()
	}
	if err != nil {
		return s.badJSON(c, err), false
	}
	if kind != '{' {
		return s.invalid(c, "", "the body must be a JSON object"), false
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return s.invalid(c, te.Field, te.Field+" has the wrong JSON type ("+te.Value+")"), false
		}
		return s.invalid(c, "", err.Error()), false
	}
	return response{}, true
}
