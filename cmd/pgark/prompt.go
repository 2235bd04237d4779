package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// promptPassword asks for a password on the controlling terminal, without
// echo, as psql and pg_dump do; it is conn's prompt hook for -W and for a
// server that asks for a password none was given for. With no terminal
// (a pipe, CI, cron) it fails and says where a password can come from.
func promptPassword(ctx context.Context, msg string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", errors.New("a password is needed and there is no terminal to ask on: set PGPASSWORD, use a .pgpass file, or run with -W on a terminal")
	}
	defer tty.Close()
	if _, err := fmt.Fprint(tty, msg); err != nil {
		return "", fmt.Errorf("prompt for password: %w", err)
	}
	pw, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(pw), nil
}
