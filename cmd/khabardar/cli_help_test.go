package main

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// commandPaths returns the path of every command in the tree, root first.
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	cfg, err := newConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	root := newRoot(cfg, slog.New(slog.DiscardHandler), &bytes.Buffer{}, &bytes.Buffer{})
	root.InitDefaultHelpCmd()
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, s := range c.Commands() {
			walk(s, append(slices.Clip(path), s.Name()))
		}
	}
	walk(root, nil)
	return paths
}

// TestHelpEverywhere: every command and group answers --help, -h and
// "help COMMAND" with prose, examples and exit codes, on stdout, exit 0.
func TestHelpEverywhere(t *testing.T) {
	paths := commandPaths(t)
	if len(paths) < 20 {
		t.Fatalf("only %d commands in the tree", len(paths))
	}
	for _, path := range paths {
		name := strings.Join(append([]string{"khabardar"}, path...), " ")
		forms := [][]string{append(slices.Clip(path), "--help"), append(slices.Clip(path), "-h"), append([]string{"help"}, path...)}
		if len(path) > 0 && path[0] == "help" {
			forms = forms[:2]
		}
		for _, args := range forms {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				var out, errb bytes.Buffer
				code := run(context.Background(), args, &out, &errb)
				help := out.String()
				if code != 0 || errb.Len() != 0 {
					t.Fatalf("exit %d, stderr %q", code, errb.String())
				}
				if !strings.Contains(help, "Usage:\n  "+name) {
					t.Errorf("no usage line for %q:\n%s", name, help)
				}
				if len(path) > 0 && path[0] == "help" {
					return // cobra's own
				}
				prose, _, _ := strings.Cut(help, "\nUsage:")
				if len(strings.Fields(prose)) < 12 {
					t.Errorf("the help has no prose before its usage:\n%s", help)
				}
				for _, want := range []string{"\nExamples:\n  ", "\nExit codes:\n  0 "} {
					if !strings.Contains(help, want) {
						t.Errorf("the help lacks %q:\n%s", want, help)
					}
				}
				if strings.Contains(help, "Usage of") || strings.Contains(help, "\n  -data ") {
					t.Errorf("Go flag package style in the help:\n%s", help)
				}
			})
		}
	}
}

// TestFlagHelpNamesEnv: every flag with an environment variable says so
// beside it.
func TestFlagHelpNamesEnv(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--help"}, &out, &errb); code != 0 {
		t.Fatal(code)
	}
	for _, flag := range []string{"--addr", "--data", "--redis", "--key-file", "--max-batch", "--rate-evaluate", "--metrics-addr", "--bucket-cache-ttl"} {
		_, flags, _ := strings.Cut(out.String(), "\nFlags:\n")
		i := strings.Index(flags, flag+" ")
		if i < 0 {
			t.Errorf("%s missing from serve --help", flag)
			continue
		}
		line, _, _ := strings.Cut(flags[i:], "\n")
		if !strings.Contains(line, "(env KHABARDAR_") {
			t.Errorf("%s: no env var named: %s", flag, line)
		}
	}
}

func TestUnknownCommands(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"top level", []string{"frobnicate"}, `unknown command "frobnicate" for "khabardar"`},
		{"misspelt", []string{"lisitngs"}, "did you mean listings?"},
		{"in a group", []string{"keys", "rotate"}, `unknown command "rotate" for "khabardar keys"`},
		{"unknown flag", []string{"listings", "list", "--colour"}, "unknown flag: --colour"},
		// A value typed where a command belongs is never repeated.
		{"a value for a command", []string{"0300-7654321"}, "unknown command (not repeated: it may be an identifier)"},
		{"a value for a help topic", []string{"help", "35202-7654321-1"}, "no help for (not repeated"},
		{"a value for a flag", []string{"serve", "--max-batch", "0300-7654321"}, "invalid argument (not repeated"},
		{"a value for an argument", []string{"serve", "35202-7654321-1"}, "takes no arguments, not (not repeated"},
		{"a help topic", []string{"help", "lisitngs"}, `no help for "lisitngs"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), tt.want) || !strings.Contains(errb.String(), "--help' for usage") {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errb.String(), tt.want)
			}
			if strings.Contains(errb.String()+out.String(), "7654321") {
				t.Errorf("a value was repeated: %q", errb.String()+out.String())
			}
		})
	}
}

// TestSingleDashFlags: the single-dash long flags of earlier releases still
// work; values and "-" (standard input) are left alone. e2e's
// TestSingleDashFlags runs one through the binary.
func TestSingleDashFlags(t *testing.T) {
	cfg, _ := newConfig(func(string) string { return "" })
	root := newRoot(cfg, slog.New(slog.DiscardHandler), &bytes.Buffer{}, &bytes.Buffer{})
	tests := []struct {
		name     string
		in, want []string
	}{
		{"long flag", []string{"serve", "-addr", ":8080"}, []string{"serve", "--addr", ":8080"}},
		{"with value", []string{"listings", "list", "-json", "-data=/d"}, []string{"listings", "list", "--json", "--data=/d"}},
		{"already double", []string{"check", "--json", "x"}, []string{"check", "--json", "x"}},
		{"short help", []string{"check", "-h"}, []string{"check", "-h"}},
		{"stdin", []string{"check", "-"}, []string{"check", "-"}},
		{"not a flag name", []string{"check", "-0300"}, []string{"check", "-0300"}},
		{"after --", []string{"check", "--", "-json"}, []string{"check", "--", "-json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compatArgs(root, tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("compatArgs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMayBeIdentifier(t *testing.T) {
	tests := []struct {
		name string
		word string
		want bool
	}{
		{"mobile number", "0300-1234567", true},
		{"international", "+92 300 1234567", true},
		{"canonical CNIC", "cnic:35202-1234567-1", true},
		{"IMEI", "352099001761481", true},
		{"mistyped number", "0300123", true},
		{"digits with a kind prefix, wrong length", "phone:0300-12345", true},
		{"API key ID", "ak_00000000", false},
		{"listing ID", "pakdata-shop-2025", false},
		{"command", "lisitngs", false},
		{"short number", "500", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mayBeIdentifier(tt.word); got != tt.want {
				t.Errorf("mayBeIdentifier(%q) = %v", tt.word, got)
			}
		})
	}
}
