package pool

import "testing"

func TestNewRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		opts []Option
		want string
	}{
		{"bad config", Config{}, nil, "pool: MaxWorkers must be between 1 and 10000, got 0"},
		{
			"name with dash", DefaultConfig(),
			[]Option{WithName("my-pool")},
			`pool: name must match [a-zA-Z_][a-zA-Z0-9_]*, got "my-pool"`,
		},
		{
			"name with digit first", DefaultConfig(),
			[]Option{WithName("1pool")},
			`pool: name must match [a-zA-Z_][a-zA-Z0-9_]*, got "1pool"`,
		},
		{
			"nil logger", DefaultConfig(),
			[]Option{WithLogger(nil)},
			"pool: logger must not be nil",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg, tt.opts...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New() = %v, %v, want error %q", p, err, tt.want)
			}
		})
	}
}
