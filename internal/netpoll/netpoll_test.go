//go:build linux

package netpoll

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestEventTranslation(t *testing.T) {
	masks := []struct {
		interest Event
		want     uint32
	}{
		{EventRead, unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT},
		{EventWrite, unix.EPOLLOUT | unix.EPOLLONESHOT},
		{EventHup, unix.EPOLLRDHUP | unix.EPOLLONESHOT},
		{EventRead | EventWrite, unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLONESHOT},
	}
	for _, tc := range masks {
		if got := tc.interest.epollMask(); got != tc.want {
			t.Errorf("%v.epollMask() = %#x, want %#x", tc.interest, got, tc.want)
		}
	}
	reported := []struct {
		mask uint32
		want Event
	}{
		{unix.EPOLLIN, EventRead},
		{unix.EPOLLOUT, EventWrite},
		{unix.EPOLLIN | unix.EPOLLRDHUP, EventRead | EventHup},
		{unix.EPOLLHUP, EventHup},
		{unix.EPOLLERR | unix.EPOLLOUT, EventWrite | EventHup},
		{unix.EPOLLPRI, 0},
	}
	for _, tc := range reported {
		if got := eventOf(tc.mask); got != tc.want {
			t.Errorf("eventOf(%#x) = %v, want %v", tc.mask, got, tc.want)
		}
	}
	if got := (EventRead | EventHup | 1<<6).String(); got != "read|hup|0x40" {
		t.Errorf("String() = %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		maxEvents int
		wantErr   string // "" for valid
	}{
		{0, ""},
		{1, ""},
		{1 << 16, ""},
		{-1, "MaxEvents: -1"},
		{1<<16 + 1, "MaxEvents: 65537"},
	}
	for _, tc := range cases {
		err := Config{MaxEvents: tc.maxEvents}.Validate()
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("MaxEvents %d: Validate() = %v, want %q", tc.maxEvents, err, tc.wantErr)
		}
		if tc.wantErr != "" {
			if p, err := New(Config{MaxEvents: tc.maxEvents}); err == nil {
				p.Close()
				t.Errorf("MaxEvents %d: New accepted it", tc.maxEvents)
			}
		}
	}
	if got := (Config{}).withDefaults().MaxEvents; got != defaultMaxEvents {
		t.Errorf("default MaxEvents = %d, want %d", got, defaultMaxEvents)
	}
}
