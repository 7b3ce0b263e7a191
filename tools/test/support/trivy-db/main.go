// Writes a BoltDB file from a JSON list of entries read on stdin: {"path": [bucket, nested bucket, ...], "key": K,
// "value": any JSON}. The test support (fixture-db.mjs) knows Trivy's DB layout; this program only writes buckets, so
// the fixture DB is made by the same storage library Trivy reads it with (go.etcd.io/bbolt).
//
// Usage: trivy-fixture-db <output.db> < entries.json
package main

import (
	"encoding/json"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

type entry struct {
	Path  []string        `json:"path"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: trivy-fixture-db <output.db> < entries.json")
		os.Exit(2)
	}
	var entries []entry
	if err := json.NewDecoder(os.Stdin).Decode(&entries); err != nil {
		fmt.Fprintln(os.Stderr, "trivy-fixture-db: entries are not a JSON list:", err)
		os.Exit(2)
	}
	os.Remove(os.Args[1])
	db, err := bolt.Open(os.Args[1], 0o644, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "trivy-fixture-db:", err)
		os.Exit(1)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, e := range entries {
			if len(e.Path) == 0 {
				return fmt.Errorf("entry %q has no bucket path", e.Key)
			}
			bucket, err := tx.CreateBucketIfNotExists([]byte(e.Path[0]))
			if err != nil {
				return err
			}
			for _, name := range e.Path[1:] {
				if bucket, err = bucket.CreateBucketIfNotExists([]byte(name)); err != nil {
					return err
				}
			}
			if err := bucket.Put([]byte(e.Key), e.Value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "trivy-fixture-db:", err)
		os.Exit(1)
	}
}
