package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rampartnet/rampart/internal/config"
	"github.com/rampartnet/rampart/internal/validate"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with configuration files"}
	var path string
	var dump bool
	check := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Validate a configuration file, reporting every mistake at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				var errs validate.Errors
				if errors.As(err, &errs) {
					for _, e := range errs {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", path, e)
					}
					return fmt.Errorf("%s: %d configuration errors", path, len(errs))
				}
				return err
			}
			if dump {
				out, err := cfg.Dump()
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(out)
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", path)
			return nil
		},
	}
	check.Flags().StringVar(&path, "config", "", "configuration file (YAML)")
	check.Flags().BoolVar(&dump, "dump", false, "print the effective configuration, defaults included")
	_ = check.MarkFlagRequired("config")
	cmd.AddCommand(check)
	return cmd
}
