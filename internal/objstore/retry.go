package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"gocloud.dev/gcerrors"
	"google.golang.org/api/googleapi"

	"github.com/billharness/billharness/internal/backoff"
)

// ErrChanged is wrapped by a read's error when the object is no longer
// the version its listing saw (S3 If-Match, GCS generation): it was
// rewritten or deleted during the run.
var ErrChanged = errors.New("the object changed while it was read")

// verdict is what to do about a failed request.
type verdict int

const (
	giveUp verdict = iota
	retry
	refresh // credentials expired: drop the cached ones, then retry
)

// classify says whether a failed request may be sent again. Safe to retry:
// throttling (429, 503 SlowDown), server errors, and failures with no
// response (connection refused or reset, a body cut mid-range: the range
// is asked for again, pinned to the same version). Not: a missing
// object, a changed one, denied access, a bad request.
func classify(err error) verdict {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return giveUp
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired":
			return refresh
		case "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable":
			return retry
		}
	}
	switch status := status(err); {
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		return retry
	case status >= 400:
		return giveUp
	}
	switch gcerrors.Code(err) {
	case gcerrors.NotFound, gcerrors.FailedPrecondition, gcerrors.PermissionDenied, gcerrors.InvalidArgument, gcerrors.Unimplemented:
		return giveUp
	}
	return retry // no response, or a response cut short: a transport failure
}

// status is the HTTP status of a failed request; 0 when there was no
// response.
func status(err error) int {
	var re *awshttp.ResponseError
	var ge *googleapi.Error
	switch {
	case errors.As(err, &re):
		return re.HTTPStatusCode()
	case errors.As(err, &ge):
		return ge.Code
	}
	return 0
}

// explain turns a final error into one a user can act on.
func explain(err error) error {
	code := gcerrors.Code(err)
	if s := status(err); s == http.StatusUnauthorized || s == http.StatusForbidden {
		code = gcerrors.PermissionDenied
	}
	switch code {
	case gcerrors.NotFound:
		return fmt.Errorf("not found (deleted during the run, or the bucket is wrong): %w", err)
	case gcerrors.FailedPrecondition:
		return fmt.Errorf("%w (rewritten or deleted during the run): %w", ErrChanged, err)
	case gcerrors.PermissionDenied:
		return fmt.Errorf("access denied: check the credentials (wrong or expired keys, role, clock) and that they allow list and get on the prefix: %w", err)
	}
	if classify(err) == refresh {
		return fmt.Errorf("credentials expired and could not be renewed: %w", err)
	}
	return err
}

// do runs op until it succeeds, fails for good, or the attempts run out,
// waiting a jittered exponential backoff between tries. Each try gets its
// own deadline, RequestTimeout plus a second per MiB of size: a try that
// runs out of it (a stalled connection) is tried again. what names the
// object or listing in the error.
func (s *Store) do(ctx context.Context, what string, size int64, op func(ctx context.Context) error) error {
	limit := s.cfg.RequestTimeout + time.Duration(size>>20)*time.Second
	var err error
	for attempt := 1; ; attempt++ {
		s.requests.Add(1)
		actx, cancel := context.WithTimeout(ctx, limit)
		err = op(actx)
		cancel()
		if err == nil {
			return nil
		}
		v := classify(err)
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			v = retry // this try's deadline, not the caller's
			err = fmt.Errorf("no answer within %s: %w", limit, err)
		}
		if v == giveUp || attempt >= s.cfg.Attempts {
			if attempt > 1 {
				return fmt.Errorf("%s: %w (after %d tries)", what, explain(err), attempt)
			}
			return fmt.Errorf("%s: %w", what, explain(err))
		}
		if v == refresh && s.creds != nil {
			s.creds.Invalidate()
		}
		s.retries.Add(1)
		if err := backoff.Sleep(ctx, s.backoff(attempt)); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
}

// backoff is the wait before try attempt+1: between half and all of the
// capped exponential ceiling, so that a throttled store is never asked
// again at once.
func (s *Store) backoff(attempt int) time.Duration {
	d := backoff.Ceiling(s.cfg.RetryWaitMin, s.cfg.RetryWaitMax, attempt)
	return d/2 + backoff.FullJitter(d/2)
}
