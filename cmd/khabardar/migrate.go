package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/khabardar/khabardar"
	"github.com/khabardar/khabardar/internal/record"
)

const migrateLong = `Upgrades the store's records to the format this khabardar reads. A store
written by an older khabardar is refused by every other command with
"needs_migration" until this has run.

Stop every server using the store first, and back it up (the embedded
store: copy the data directory; Redis: BGSAVE). The migration works in
batches that each commit with their progress, so a run that is killed or
loses its connection is finished by running it again; a store already in
the current format is left as it is.`

func cmdMigrate(fs *pflag.FlagSet, cfg *Config) runFunc {
	return func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
		if len(args) != 0 {
			return usageError{"migrate takes no arguments"}
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		s, err := cfg.openStore(ctx)
		if err != nil {
			return err
		}
		defer s.Close()
		m, ok := s.(khabardar.Migrator)
		if !ok {
			return fmt.Errorf("this store cannot be migrated")
		}
		tenth := int64(-1)
		from, err := m.Migrate(ctx, func(done, total int64) {
			if total > 0 && done*10/total > tenth {
				tenth = done * 10 / total
				log.Info("migrating", "buckets_done", done, "buckets", total)
			}
		})
		switch {
		case err != nil:
			return fmt.Errorf("%w (run khabardar migrate again to finish)", err)
		case from == 0:
			fmt.Fprintln(stdout, "the store is empty: nothing to migrate")
		case from == record.Format:
			fmt.Fprintf(stdout, "the store is already in record format %d: nothing to migrate\n", from)
		default:
			fmt.Fprintf(stdout, "migrated the store from record format %d to %d\n", from, record.Format)
		}
		return nil
	}
}
