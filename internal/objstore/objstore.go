// Package objstore reads objects from Amazon S3, S3-compatible stores
// (MinIO, Ceph, R2, versitygw) and Google Cloud Storage: complete listings,
// and ranged reads pinned to the version of each object the listing saw,
// retried where that is safe, with every byte fetched counted.
//
// Access goes through gocloud.dev/blob, one API over both clouds, with the
// clouds' own SDKs underneath: aws-sdk-go-v2 (its default credential chain:
// environment, shared config, web identity / IRSA, container and instance
// metadata) and cloud.google.com/go/storage (application default
// credentials, workload identity included).
package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/billharness/billharness/internal/defaults"
	"gocloud.dev/blob"
	"gocloud.dev/blob/gcsblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcp"
)

// Defaults for the zero values of [Config].
const (
	DefaultMaxInFlight  = 8
	DefaultAttempts     = 8
	DefaultRetryWaitMin = 100 * time.Millisecond
	DefaultRetryWaitMax = 5 * time.Second
	// DefaultRequestTimeout is the time a request's try gets before a
	// second per MiB it reads.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultPartSize is the largest single range request: bigger column
	// chunks are fetched as several parts in parallel.
	DefaultPartSize = 8 << 20
	// DefaultGap is the largest hole between two wanted ranges that is
	// fetched rather than costing a second request.
	DefaultGap = 1 << 20
)

// Config says how to reach a store. The zero value reads AWS S3 or GCS
// with the clouds' default credential chains and the defaults above.
type Config struct {
	// Endpoint is the URL of an S3-compatible server
	// (http://127.0.0.1:7070, https://<account>.r2.cloudflarestorage.com).
	// Empty uses AWS_ENDPOINT_URL if set, else AWS itself.
	Endpoint string
	// PathStyle addresses buckets as ENDPOINT/bucket/key rather than
	// bucket.ENDPOINT/key, as most S3-compatible servers want.
	PathStyle bool
	// Region overrides AWS_REGION and the shared config. With an endpoint
	// and no region anywhere, us-east-1 is used (S3-compatible servers
	// mostly ignore it).
	Region string
	// HTTPClient, when set, carries every request (tests put a fault
	// proxy in its transport).
	HTTPClient *http.Client

	// MaxInFlight bounds the range requests in flight per store
	// (DefaultMaxInFlight).
	MaxInFlight int
	// Attempts bounds the tries of one request (DefaultAttempts).
	Attempts int
	// RetryWaitMin and RetryWaitMax bound the jittered exponential
	// backoff between tries (DefaultRetryWaitMin, DefaultRetryWaitMax).
	RetryWaitMin, RetryWaitMax time.Duration
	// RequestTimeout bounds one try of a request, plus a second per MiB
	// it reads (DefaultRequestTimeout): a connection that stalls is
	// abandoned and the request tried again.
	RequestTimeout time.Duration
	// PartSize and Gap shape prefetches (DefaultPartSize, DefaultGap).
	PartSize, Gap int64
	// ListPageSize is the keys asked for per LIST request (1000, S3's
	// maximum).
	ListPageSize int
}

func (c Config) withDefaults() Config {
	defaults.Set(&c.MaxInFlight, DefaultMaxInFlight)
	defaults.Set(&c.Attempts, DefaultAttempts)
	defaults.Set(&c.ListPageSize, 1000)
	defaults.Set(&c.RetryWaitMin, DefaultRetryWaitMin)
	defaults.Set(&c.RetryWaitMax, DefaultRetryWaitMax)
	defaults.Set(&c.RequestTimeout, DefaultRequestTimeout)
	defaults.Set(&c.PartSize, DefaultPartSize)
	defaults.Set(&c.Gap, DefaultGap)
	return c
}

// Schemes of the URLs a store opens.
const (
	SchemeS3  = "s3"
	SchemeGCS = "gs"
)

// IsURL reports whether s names an object store: s3://… or gs://….
func IsURL(s string) bool {
	return strings.HasPrefix(s, SchemeS3+"://") || strings.HasPrefix(s, SchemeGCS+"://")
}

// SplitURL splits s3://bucket/key or gs://bucket/key into its scheme,
// bucket and key (the key may be empty, or a glob).
func SplitURL(s string) (scheme, bucket, key string, err error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != SchemeS3 && scheme != SchemeGCS) {
		return "", "", "", fmt.Errorf("%q: want s3://BUCKET/KEY or gs://BUCKET/KEY", s)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", "", fmt.Errorf("%q: no bucket", s)
	}
	if strings.ContainsAny(bucket, "*?[") {
		return "", "", "", fmt.Errorf("%q: a bucket name cannot be a glob", s)
	}
	return scheme, bucket, key, nil
}

// Store is one open bucket. It is safe for concurrent use.
type Store struct {
	cfg    Config
	scheme string
	name   string
	b      *blob.Bucket
	creds  *aws.CredentialsCache // S3 only: invalidated on an expired token
	sem    chan struct{}

	requests, retries, fetched, wasted atomic.Int64
}

// Stats counts a store's traffic.
type Stats struct {
	// Requests counts the GET and LIST requests sent, retries included.
	Requests int64 `json:"requests"`
	// Retries counts the requests sent again after a retryable failure.
	Retries int64 `json:"retries"`
	// BytesFetched counts the object bytes received.
	BytesFetched int64 `json:"bytes_fetched"`
	// BytesWasted counts, of BytesFetched, the holes between wanted
	// ranges fetched to save a request.
	BytesWasted int64 `json:"bytes_wasted,omitempty"`
}

// Stats returns the traffic so far.
func (s *Store) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Retries: s.retries.Load(), BytesFetched: s.fetched.Load(), BytesWasted: s.wasted.Load()}
}

// Open opens the bucket of rawURL (s3://bucket/… or gs://bucket/…; the
// key part is ignored). No request is sent yet: missing credentials or
// permissions show on the first listing or read.
func Open(ctx context.Context, cfg Config, rawURL string) (*Store, error) {
	scheme, name, _, err := SplitURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg.withDefaults(), scheme: scheme, name: name}
	s.sem = make(chan struct{}, s.cfg.MaxInFlight)
	switch scheme {
	case SchemeS3:
		client, creds, err := s3Client(ctx, s.cfg)
		if err != nil {
			return nil, fmt.Errorf("s3://%s: %w", name, err)
		}
		s.creds = creds
		if s.b, err = s3blob.OpenBucket(ctx, client, name, nil); err != nil {
			return nil, fmt.Errorf("s3://%s: %w", name, err)
		}
	case SchemeGCS:
		creds, err := gcp.DefaultCredentials(ctx)
		if err != nil {
			return nil, fmt.Errorf("gs://%s: application default credentials: %w", name, err)
		}
		var transport http.RoundTripper = gcp.DefaultTransport()
		if s.cfg.HTTPClient != nil && s.cfg.HTTPClient.Transport != nil {
			transport = s.cfg.HTTPClient.Transport
		}
		client, err := gcp.NewHTTPClient(transport, gcp.CredentialsTokenSource(creds))
		if err != nil {
			return nil, fmt.Errorf("gs://%s: %w", name, err)
		}
		if s.b, err = gcsblob.OpenBucket(ctx, client, name, nil); err != nil {
			return nil, fmt.Errorf("gs://%s: %w", name, err)
		}
	}
	return s, nil
}

// s3Client builds an S3 client from the AWS default chain. The SDK's own
// retries are off: this package retries every request itself, the same
// way for listings and reads, including a body cut mid-range (which the
// SDK cannot retry), and without the SDK's retry quota, which fails
// requests outright after a burst of throttling.
func s3Client(ctx context.Context, cfg Config) (*s3.Client, *aws.CredentialsCache, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	ac, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("aws config: %w", err)
	}
	if ac.Region == "" {
		if cfg.Endpoint == "" && ac.BaseEndpoint == nil {
			return nil, nil, errors.New("no AWS region: set AWS_REGION (or the region flag)")
		}
		ac.Region = "us-east-1"
	}
	creds, _ := ac.Credentials.(*aws.CredentialsCache)
	client := s3.NewFromConfig(ac, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		if cfg.HTTPClient != nil {
			o.HTTPClient = cfg.HTTPClient
		}
		// Checksums only where S3 requires them: S3-compatible servers
		// differ in what they support, and ranged reads carry none.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return client, creds, nil
}

// URL returns the URL of key in this store.
func (s *Store) URL(key string) string { return s.scheme + "://" + s.name + "/" + key }

// Close releases the bucket.
func (s *Store) Close() error { return s.b.Close() }
