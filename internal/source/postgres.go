package source

import (
	"context"
	"errors"
)

func openPostgres(ctx context.Context, spec Spec) (Reader, error) {
	return nil, errors.New("todo")
}
