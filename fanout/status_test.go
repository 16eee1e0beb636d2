package fanout

import (
	"testing"

	"github.com/tickerfan/tickerfan/model"
)

// A snapshot implies "online" only for feeds that never report status: a
// feed's explicit offline is not overridden by data arriving during a resync.
func TestStatusBoardBelievesTheFeed(t *testing.T) {
	cat, err := newCatalog(model.DefaultProducts()[:2])
	if err != nil {
		t.Fatal(err)
	}
	var b statusBoard
	b.init(cat)
	b.sawData(0)
	if st := b.snapshot()[0]; !st.online {
		t.Fatalf("a feed without status: data should mark it online, got %+v", st)
	}
	b.set(1, false, "resyncing")
	b.sawData(1)
	if st := b.snapshot()[1]; st.online || st.message != "resyncing" {
		t.Fatalf("explicit offline was overridden by data: %+v", st)
	}
	b.set(1, true, "")
	if st := b.snapshot()[1]; !st.online {
		t.Fatalf("explicit online not applied: %+v", st)
	}
}
