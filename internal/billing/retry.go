package billing

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
)

// CodeKeyReused is the 409 code of an Idempotency-Key sent before with
// another body [chosen]: for an event, a copy of its id whose payload
// differs from the copy the API has.
const CodeKeyReused = "idempotency_key_reused"

// CodeRequestInProgress is the 409 code of a request whose Idempotency-Key
// an earlier request still holds [chosen].
const CodeRequestInProgress = "idempotency_request_in_progress"

// shouldRetry is the retry policy: transport errors (status 0) except a
// certificate that does not verify, 429 and 5xx except 501 Not
// Implemented, which no retry can fix; and a 409 for a key still in
// flight (the same event sent twice at once, as sources with repeated ids
// do), which resolves into the first answer, replayed.
func shouldRetry(status int, err error) bool {
	switch {
	case status == 0:
		var te *TransportError
		return errors.As(err, &te) && !IsCertificateError(err)
	case status == http.StatusTooManyRequests:
		return true
	case status == http.StatusConflict:
		var apiErr *APIError
		return errors.As(err, &apiErr) && apiErr.Code == CodeRequestInProgress
	}
	return status >= 500 && status != http.StatusNotImplemented
}

// IsCertificateError reports whether err is a failure to verify the API's
// TLS certificate. No retry can fix it and every request will meet it, so
// the client does not retry it and callers stop rather than go on.
func IsCertificateError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		host      x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &authority) || errors.As(err, &host) || errors.As(err, &invalid)
}
