package lifecycle

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/rs/zerolog"
)

type fake struct {
	name     string
	log      *[]string
	startErr error
	stopErr  error
}

func (f fake) Start(context.Context) error {
	*f.log = append(*f.log, "start "+f.name)
	return f.startErr
}
func (f fake) Stop() error { *f.log = append(*f.log, "stop "+f.name); return f.stopErr }

func TestRun(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		comps   func(*[]string) []Named
		cancel  bool
		fail    error
		want    []string
		wantErr error
	}{
		{
			name: "reverse stop on cancel",
			comps: func(l *[]string) []Named {
				return []Named{{"a", fake{name: "a", log: l}}, {"b", fake{name: "b", log: l}}, {"c", fake{name: "c", log: l}}}
			},
			cancel: true,
			want:   []string{"start a", "start b", "start c", "stop c", "stop b", "stop a"},
		},
		{
			name: "start failure stops only what started",
			comps: func(l *[]string) []Named {
				return []Named{{"a", fake{name: "a", log: l}}, {"b", fake{name: "b", log: l, startErr: boom}}, {"c", fake{name: "c", log: l}}}
			},
			want:    []string{"start a", "start b", "stop a"},
			wantErr: boom,
		},
		{
			name: "component failure stops all and is returned",
			comps: func(l *[]string) []Named {
				return []Named{{"a", fake{name: "a", log: l}}, {"b", fake{name: "b", log: l, stopErr: boom}}}
			},
			fail:    errors.New("source died"),
			want:    []string{"start a", "start b", "stop b", "stop a"},
			wantErr: boom,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			}
			defer cancel()
			failed := make(chan error, 1)
			if tc.fail != nil {
				failed <- tc.fail
			}
			err := Run(ctx, zerolog.Nop(), tc.comps(&log), failed, nil)
			if !reflect.DeepEqual(log, tc.want) {
				t.Errorf("calls = %v, want %v", log, tc.want)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.fail != nil && !errors.Is(err, tc.fail) {
				t.Errorf("err = %v, want it to include %v", err, tc.fail)
			}
			if tc.wantErr == nil && tc.fail == nil && err != nil {
				t.Errorf("err = %v, want nil", err)
			}
		})
	}
}
