package modules

import (
	"strings"
	"testing"
)

func TestLoadJetStreamConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    JetStreamConfig
		wantErr string
	}{
		{"memory needs nothing", nil, JetStreamConfig{}, ""},
		{
			"memory ignores nats variables",
			map[string]string{"NOTIFIER_NATS_URL": "garbage", "NOTIFIER_NATS_REPLICAS": "7"},
			JetStreamConfig{},
			"",
		},
		{
			"embedded",
			map[string]string{"NOTIFIER_QUEUE": "nats", "NOTIFIER_NATS_STORE_DIR": "/var/lib/n"},
			JetStreamConfig{StoreDir: "/var/lib/n", Replicas: 1},
			"",
		},
		{
			"cluster",
			map[string]string{
				"NOTIFIER_QUEUE":         "nats",
				"NOTIFIER_NATS_URL":      "nats://a:4222, nats://b:4222",
				"NOTIFIER_NATS_REPLICAS": "3",
			},
			JetStreamConfig{URL: "nats://a:4222, nats://b:4222", Replicas: 3},
			"",
		},
		{
			"embedded without store",
			map[string]string{"NOTIFIER_QUEUE": "nats"},
			JetStreamConfig{},
			"config: NOTIFIER_NATS_STORE_DIR must be set when NOTIFIER_QUEUE is nats " +
				"and NOTIFIER_NATS_URL is empty",
		},
		{
			"url without scheme",
			map[string]string{"NOTIFIER_QUEUE": "nats", "NOTIFIER_NATS_URL": "user:hunter2@a:4222"},
			JetStreamConfig{},
			"config: NOTIFIER_NATS_URL must be a comma-separated list of nats://host:port URLs",
		},
		{
			"one bad url",
			map[string]string{
				"NOTIFIER_QUEUE":    "nats",
				"NOTIFIER_NATS_URL": "nats://a:4222,http://hunter2@b",
			},
			JetStreamConfig{},
			"config: NOTIFIER_NATS_URL must be a comma-separated list of nats://host:port URLs",
		},
		{
			"replicas",
			map[string]string{
				"NOTIFIER_QUEUE": "nats", "NOTIFIER_NATS_URL": "nats://a:4222",
				"NOTIFIER_NATS_REPLICAS": "7",
			},
			JetStreamConfig{},
			"config: NOTIFIER_NATS_REPLICAS must be between 1 and 5, got 7",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := envParams{Env: MapEnvironment(tt.env)}
			nc, err := newNotificationConfig(p)
			if err != nil {
				t.Fatalf("newNotificationConfig(%v) error = %v", tt.env, err)
			}
			got, err := newJetStreamConfig(p, nc)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("load(%v) error = %q, want %q", tt.env, gotErr, tt.wantErr)
			}
			if tt.wantErr == "" && got != tt.want {
				t.Errorf("load(%v) = %+v, want %+v", tt.env, got, tt.want)
			}
			if strings.Contains(gotErr, "hunter2") {
				t.Errorf("load(%v) error %q shows a credential", tt.env, gotErr)
			}
		})
	}
}

func TestRedactNATSURLs(t *testing.T) {
	t.Parallel()
	c := JetStreamConfig{URL: "nats://u:hunter2@a:4222,tls://b:4443?x=1"}
	if got, want := c.redactURLs(), "nats://a:4222,tls://b:4443"; got != want {
		t.Errorf("redactURLs() = %q, want %q", got, want)
	}
}
