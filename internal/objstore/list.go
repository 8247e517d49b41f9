package objstore

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"cloud.google.com/go/storage"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
)

// Object is one object as a listing found it.
type Object struct {
	// URL is s3://bucket/key or gs://bucket/key.
	URL string
	Key string
	// Size is the object's length in bytes.
	Size int64
	// Version identifies the object's content: the ETag (S3) or the
	// generation (GCS). Every read is pinned to it.
	Version string
}

// List returns the objects that pattern names, sorted by key, following
// the rules of local paths:
//   - a key with no glob character names that object if it exists, else
//     the "directory" key/: every object under it whose name ends in
//     suffix (recursively; hive partitions such as dt=2026-10-01/ included);
//   - a glob (path.Match syntax, matched segment by segment) names the
//     objects it matches, and every object ending in suffix under a
//     "directory" it matches.
//
// Under a directory, a segment starting with "." or "_" (_SUCCESS,
// _temporary/) is left out. The listing is read to its end, page by page;
// a page token that repeats or keys that go backwards are an error, not a
// silently short listing.
func (s *Store) List(ctx context.Context, pattern, suffix string) ([]Object, error) {
	glob := strings.ContainsAny(pattern, "*?[")
	prefix := pattern
	if glob {
		i := strings.IndexAny(pattern, "*?[")
		prefix = pattern[:strings.LastIndex(pattern[:i], "/")+1]
		if _, err := path.Match(pattern, ""); err != nil {
			return nil, fmt.Errorf("%s: %w", s.URL(pattern), err)
		}
	}
	var segs []string
	if glob {
		segs = strings.Split(pattern, "/")
	}
	dir := strings.TrimSuffix(pattern, "/") + "/"
	var out []Object
	exact := false
	err := s.each(ctx, prefix, func(o *blob.ListObject) error {
		key := o.Key
		var rest string
		switch {
		case glob:
			parts := strings.Split(key, "/")
			if len(parts) < len(segs) {
				return nil
			}
			for i, p := range segs {
				if ok, _ := path.Match(p, parts[i]); !ok {
					return nil
				}
			}
			if len(parts) == len(segs) {
				out = append(out, s.object(o))
				return nil
			}
			rest = strings.Join(parts[len(segs):], "/")
		case key == pattern:
			exact = true
			out = append(out[:0], s.object(o))
			return nil
		case exact:
			return nil
		case strings.HasPrefix(key, dir):
			rest = key[len(dir):]
		default:
			return nil
		}
		if !strings.HasSuffix(key, suffix) || hidden(rest) {
			return nil
		}
		out = append(out, s.object(o))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if glob {
			return nil, fmt.Errorf("%s: no object matches", s.URL(pattern))
		}
		return nil, fmt.Errorf("%s: no object found (nor any %s object under %s)", s.URL(pattern), suffix, s.URL(dir))
	}
	return out, nil
}

// hidden reports whether a relative key has a segment starting with "."
// or "_".
func hidden(rest string) bool {
	for seg := range strings.SplitSeq(rest, "/") {
		if strings.HasPrefix(seg, ".") || strings.HasPrefix(seg, "_") {
			return true
		}
	}
	return false
}

// each calls fn for every object under prefix, in key order.
func (s *Store) each(ctx context.Context, prefix string, fn func(*blob.ListObject) error) error {
	token := blob.FirstPageToken
	seen := map[string]bool{}
	last := ""
	for page := 1; ; page++ {
		var objs []*blob.ListObject
		var next []byte
		err := s.do(ctx, fmt.Sprintf("list %s (page %d)", s.URL(prefix), page), 0, func(ctx context.Context) error {
			var err error
			objs, next, err = s.b.ListPage(ctx, token, s.cfg.ListPageSize, &blob.ListOptions{Prefix: prefix})
			return err
		})
		if err != nil {
			return err
		}
		for _, o := range objs {
			if o.IsDir {
				continue
			}
			if o.Key <= last && last != "" {
				return fmt.Errorf("list %s: page %d went back from %q to %q: the listing is not in key order, refusing an incomplete list", s.URL(prefix), page, last, o.Key)
			}
			last = o.Key
			if err := fn(o); err != nil {
				return err
			}
		}
		if len(next) == 0 {
			return nil
		}
		if seen[string(next)] || bytes.Equal(next, token) {
			return fmt.Errorf("list %s: page %d repeated a continuation token: refusing an incomplete list", s.URL(prefix), page)
		}
		seen[string(next)] = true
		token = next
	}
}

// object describes a listed object with its version.
func (s *Store) object(o *blob.ListObject) Object {
	obj := Object{URL: s.URL(o.Key), Key: o.Key, Size: o.Size}
	var so types.Object
	var ga storage.ObjectAttrs
	switch {
	case o.As(&so):
		obj.Version = aws.ToString(so.ETag)
	case o.As(&ga):
		obj.Version = strconv.FormatInt(ga.Generation, 10)
	}
	return obj
}
