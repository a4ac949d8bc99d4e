package plan_test

import (
	"bytes"
	"strings"
	"testing"

	"sealgate/inner/mask/plan"
)

const good = `{"version":1,"width":1280,"height":720,"frames":100,"style":"mosaic","margin":0.15,
"tracks":[{"id":1,"kind":"face","source":"auto","boxes":[{"f":0,"x":10,"y":20,"w":40,"h":40,"by":"detector"},{"f":1,"x":12,"y":20,"w":40,"h":40,"by":"interpolated"}]},
{"id":2,"kind":"manual","source":"manual","excluded":true,"boxes":[{"f":5,"x":0,"y":0,"w":1280,"h":720,"by":"manual"}]}]}`

func TestParseRoundTrip(t *testing.T) {
	p, err := plan.Parse(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	q, err := plan.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	h1, _ := p.SHA256()
	h2, _ := q.SHA256()
	if h1 != h2 {
		t.Fatal("hash changed across a round trip")
	}
	ix := p.Masked()
	if len(ix.At(0)) != 1 || len(ix.At(5)) != 0 {
		t.Fatalf("index: frame 0 %v, frame 5 (excluded) %v", ix.At(0), ix.At(5))
	}
	if p.NextID() != 3 {
		t.Fatalf("NextID %d", p.NextID())
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"version":       strings.Replace(good, `"version":1`, `"version":2`, 1),
		"unknown field": strings.Replace(good, `"margin"`, `"extra":1,"margin"`, 1),
		"outside frame": strings.Replace(good, `"x":10`, `"x":1250`, 1),
		"negative":      strings.Replace(good, `"y":20,"w":40,"h":40,"by":"detector"`, `"y":-1,"w":40,"h":40,"by":"detector"`, 1),
		"order":         strings.Replace(good, `{"f":1,`, `{"f":0,`, 1),
		"frame range":   strings.Replace(good, `{"f":5,`, `{"f":100,`, 1),
		"duplicate id":  strings.Replace(good, `"id":2`, `"id":1`, 1),
		"style":         strings.Replace(good, `"mosaic"`, `"swirl"`, 1),
		"margin":        strings.Replace(good, `0.15`, `2`, 1),
		"kind":          strings.Replace(good, `"kind":"face"`, `"kind":"cat"`, 1),
		"by":            strings.Replace(good, `"by":"detector"`, `"by":"guess"`, 1),
		"trailing":      good + `{}`,
		"overflow":      strings.Replace(good, `"w":40,"h":40,"by":"detector"`, `"w":9223372036854775807,"h":40,"by":"detector"`, 1),
	} {
		if _, err := plan.Parse(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParse: no input panics, and whatever parses re-encodes to a plan that
// parses to the same hash.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"version":1,"width":2,"height":2,"frames":1,"style":"solid","margin":0,"tracks":[]}`))
	f.Add([]byte(`{"version":1,"tracks":[{"boxes":[{}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := plan.Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		enc, err := p.Encode()
		if err != nil {
			t.Fatalf("parsed plan does not encode: %v", err)
		}
		q, err := plan.Parse(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("re-encoded plan does not parse: %v", err)
		}
		h1, _ := p.SHA256()
		h2, _ := q.SHA256()
		if h1 != h2 {
			t.Fatal("hash differs after re-encoding")
		}
		p.Masked()
	})
}
