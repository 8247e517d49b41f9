// Package objstoretest gives tests the S3-compatible server that make
// test starts (scripts/with-s3.sh): a fresh bucket per test, and uploads.
package objstoretest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/billharness/billharness/internal/objstore"
	"github.com/billharness/billharness/internal/testenv"
)

// EnvEndpoint names the variable holding the test server's URL.
const EnvEndpoint = "BILLHARNESS_TEST_S3_ENDPOINT"

// Endpoint returns the test server's URL. Without one the test is
// skipped, except in CI (CI set), where tests that need the server must
// never be skipped: there it fails.
func Endpoint(t testing.TB) string {
	t.Helper()
	return testenv.Getenv(t, EnvEndpoint, "make test starts an S3 server with scripts/with-s3.sh")
}

// Bucket is a fresh bucket on the test server.
type Bucket struct {
	Name   string
	Config objstore.Config // reaches the server (endpoint, path style)
	client *s3.Client
	t      testing.TB
}

var seq atomic.Int64

// NewBucket creates a bucket with a name unique to the test run.
func NewBucket(t testing.TB) *Bucket {
	t.Helper()
	ep := Endpoint(t)
	ctx := context.Background()
	ac, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(ac, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(ep)
		o.UsePathStyle = true
	})
	name := fmt.Sprintf("bh-%d-%d-%d", os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return &Bucket{Name: name, Config: objstore.Config{Endpoint: ep, PathStyle: true, RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond}, client: client, t: t}
}

// URL returns s3://bucket/key.
func (b *Bucket) URL(key string) string { return "s3://" + b.Name + "/" + key }

// Put uploads data under key and returns its ETag.
func (b *Bucket) Put(key string, data []byte) string {
	b.t.Helper()
	out, err := b.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &b.Name, Key: &key, Body: bytes.NewReader(data)})
	if err != nil {
		b.t.Fatalf("put %s: %v", b.URL(key), err)
	}
	return aws.ToString(out.ETag)
}

// PutTree uploads every file under dir, keyed by prefix + its path
// relative to dir (slash-separated), and returns the number uploaded.
func (b *Bucket) PutTree(dir, prefix string) int {
	b.t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if prefix != "" {
			key = strings.TrimSuffix(prefix, "/") + "/" + key
		}
		b.Put(key, data)
		n++
		return nil
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// Faults is an http.RoundTripper that answers some requests itself with
// the errors an S3 service sends under load or with stale credentials,
// and passes the rest to Next (http.DefaultTransport when nil). Request
// n (from 1) gets a 503 SlowDown when n%SlowDownEvery == 0, else a 429
// when n%TooManyEvery == 0, else a 400 ExpiredToken when
// n%ExpiredEvery == 0, else no answer at all, until the request's
// context ends, when n%StallEvery == 0 (a zero period never fires).
type Faults struct {
	Next                                                  http.RoundTripper
	SlowDownEvery, TooManyEvery, ExpiredEvery, StallEvery int64

	n                                   atomic.Int64
	SlowDowns, TooMany, Expired, Stalls atomic.Int64
}

// RoundTrip implements http.RoundTripper.
func (f *Faults) RoundTrip(req *http.Request) (*http.Response, error) {
	n := f.n.Add(1)
	hit := func(every int64) bool { return every > 0 && n%every == 0 }
	switch {
	case hit(f.SlowDownEvery):
		f.SlowDowns.Add(1)
		return s3Error(req, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."), nil
	case hit(f.TooManyEvery):
		f.TooMany.Add(1)
		return s3Error(req, http.StatusTooManyRequests, "TooManyRequests", "Too many requests."), nil
	case hit(f.ExpiredEvery):
		f.Expired.Add(1)
		return s3Error(req, http.StatusBadRequest, "ExpiredToken", "The provided token has expired."), nil
	case hit(f.StallEvery):
		f.Stalls.Add(1)
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	next := f.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(req)
}

func s3Error(req *http.Request, status int, code, msg string) *http.Response {
	if req.Body != nil {
		req.Body.Close()
	}
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fault</RequestId></Error>`, code, msg)
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/xml"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
