package cli

import (
	"flag"

	"github.com/billharness/billharness/internal/objstore"
)

// ObjectStore defines the flags that reach an object store for a
// parquet:s3://… source, each falling back to PREFIX_S3_…; left unset,
// the AWS SDK's own settings apply (AWS_ENDPOINT_URL, AWS_REGION, the
// shared config), and its default credential chain always does.
func ObjectStore(fs *flag.FlagSet, cfg *objstore.Config, prefix string) {
	String(fs, &cfg.Endpoint, "s3-endpoint", prefix+"_S3_ENDPOINT", "",
		"S3-compatible endpoint `URL` for parquet:s3://… (MinIO, Ceph, R2); default AWS_ENDPOINT_URL, else AWS")
	Bool(fs, &cfg.PathStyle, "s3-path-style", prefix+"_S3_PATH_STYLE", false,
		"address buckets as ENDPOINT/bucket/key, as most S3-compatible servers want")
	String(fs, &cfg.Region, "s3-region", prefix+"_S3_REGION", "", "S3 `region` (default AWS_REGION or the shared config)")
}
