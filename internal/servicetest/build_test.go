package servicetest

import "testing"

func TestBinNameIsGoInstallName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pkg  string
		want string
	}{
		{"command", "github.com/fxpool/fxpool/cmd/notifier", "notifier"},
		{"major version", "github.com/nats-io/nats-server/v2", "nats-server"},
		{"single element", "notifier", "notifier"},
		{"version alone", "v2", "v2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := binName(tt.pkg); got != tt.want {
				t.Errorf("binName(%q) = %q, want %q", tt.pkg, got, tt.want)
			}
		})
	}
}
