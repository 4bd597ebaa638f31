package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/forge/github"
	"github.com/netrecon/netrecon/views"
)

// maxBodyFile bounds what comment reads; GitHub keeps 65,536 characters of it.
const maxBodyFile = 16 << 20

func newCommentCmd(a *app) *cobra.Command {
	var (
		repo          string
		pr            int
		bodyFile      string
		marker        string
		allowReadonly bool
		timeout       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "comment --repo OWNER/NAME --pr N --body-file FILE",
		Short: "Post or update the plan comment on a GitHub pull request",
		Long: `comment keeps one comment on a pull request equal to FILE (usually the output of
"netrecon plan --output markdown"): the comment containing the marker is edited,
or created when there is none. A body longer than GitHub's 65,536 characters is
cut with a note.

The token comes from GITHUB_TOKEN, the API from GITHUB_API_URL (default
https://api.github.com; GitHub Actions sets it, also for GitHub Enterprise).
The token needs "pull-requests: write". Pull requests from forks only get a
read-only token: with --allow-readonly, that refusal (HTTP 403) prints a note
and exits 0 instead of failing the job.

Exit status: 0 posted (or read-only and allowed), 1 failed, 2 usage error.`,
		Example: `  netrecon plan . --base "$BASE_SHA" --head "$HEAD_SHA" --output markdown > plan.md
  netrecon comment --repo "$GITHUB_REPOSITORY" --pr 42 --body-file plan.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pr <= 0 {
				return &exitError{code: 2, err: fmt.Errorf("--pr %d: want the pull request number", pr)}
			}
			token, ok := os.LookupEnv("GITHUB_TOKEN")
			if !ok || strings.TrimSpace(token) == "" {
				return &exitError{code: 2, err: errors.New("GITHUB_TOKEN is not set; in a workflow add `env: GITHUB_TOKEN: ${{ github.token }}` to the step")}
			}
			apiURL := os.Getenv("GITHUB_API_URL")
			if apiURL == "" {
				apiURL = github.DefaultBaseURL
			}
			body, err := readBody(a, bodyFile)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			client, err := github.New(
				github.WithBaseURL(apiURL),
				github.WithToken(token),
				github.WithUserAgent("netrecon/"+version),
				github.WithLogger(slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
			)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			url, created, err := client.UpsertComment(ctx, repo, pr, marker, body)
			if allowReadonly && errors.Is(err, github.ErrForbidden) {
				fmt.Fprintf(a.stderr, "netrecon: note: not commenting on %s#%d: the token is read-only "+
					"(a pull request from a fork gets no write token); the plan is in the job summary and the run's artifact\n", repo, pr)
				return nil
			}
			if errors.Is(err, github.ErrInvalidArgument) {
				return &exitError{code: 2, err: err}
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			verb := "updated"
			if created {
				verb = "created"
			}
			fmt.Fprintf(a.stdout, "%s plan comment %s\n", verb, url)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&repo, "repo", "", "the repository, OWNER/NAME (in Actions: $GITHUB_REPOSITORY)")
	f.IntVar(&pr, "pr", 0, "the pull request number")
	f.StringVar(&bodyFile, "body-file", "", `the comment body, markdown; "-" reads standard input`)
	f.StringVar(&marker, "marker", views.CommentMarker, "hidden HTML comment that identifies netrecon's comment")
	f.BoolVar(&allowReadonly, "allow-readonly", false, "exit 0 with a note when the token may not comment (HTTP 403)")
	f.DurationVar(&timeout, "timeout", 5*time.Minute, "give up after this long, retries included")
	for _, name := range []string{"repo", "pr", "body-file"} {
		// Fails only for a flag that does not exist; TestCommentUsage covers it.
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// readBody reads the comment body from path, or standard input for "-".
func readBody(a *app, path string) (string, error) {
	var r io.Reader
	if path == "-" {
		r = a.stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("--body-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBodyFile+1))
	if err != nil {
		return "", fmt.Errorf("--body-file %s: %w", path, err)
	}
	if len(data) > maxBodyFile {
		return "", fmt.Errorf("--body-file %s: larger than %d MiB", path, maxBodyFile>>20)
	}
	if strings.TrimSpace(string(data)) == "" {
		return "", fmt.Errorf("--body-file %s: empty; refusing to blank the plan comment", path)
	}
	return string(data), nil
}
