// Package store keeps values in memory by key, each with an expiry time.
package store

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"
)

// ErrNotFound is returned when a key holds no live value.
var ErrNotFound = errors.New("store: not found")

// Entry is one stored value and the time it expires.
type Entry[V any] struct {
	Value   V
	Expires time.Time // zero: never
}

// Store holds values by key. The zero value is not usable: call New.
type Store[K comparable, V any] struct {
	mu    sync.RWMutex
	items map[K]Entry[V]
	// stats counts lookups since the store was made.
	stats struct {
		hits, misses int
	}
}

// Getter reads values by key; *Store implements it.
type Getter[K comparable, V any] interface {
	Get(ctx context.Context, key K) (V, error)
}

// New returns an empty store.
func New[K comparable, V any]() *Store[K, V] {
	return &Store[K, V]{items: make(map[K]Entry[V])}
}

// Put stores value under key until ttl has passed.
// A zero ttl keeps the value until it is replaced.
func (s *Store[K, V]) Put(key K, value V, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entry := Entry[V]{Value: value}
	if ttl > 0 {
		entry.Expires = time.Now().Add(ttl)
	}
	s.items[key] = entry
}

// Get returns the value under key, or ErrNotFound once it has expired.
func (s *Store[K, V]) Get(ctx context.Context, key K) (V, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var zero V
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	entry, ok := s.items[key]
	if !ok || (!entry.Expires.IsZero() && time.Now().After(entry.Expires)) {
		s.stats.misses++
		return zero, ErrNotFound
	}
	s.stats.hits++
	return entry.Value, nil
}

// Len counts the entries, expired ones included.
func (s Store[K, V]) Len() int { return len(s.items) }

// Keys lists the keys in no particular order.
func (s *Store[K, V]) Keys() []K {
	keys := make([]K, 0, len(s.items)
	for k := range s.items {
		keys = append(keys, k)
	}
	return keys
}

// Sweep removes the entries that expired before now and says how many.
func (s *Store[K, V]) Sweep(now time.Time) (removed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.items {
		if !e.Expires.IsZero() && e.Expires.Before(now) {
			delete(s.items, k)
			removed++
		}
	}
	return removed
}

// Soonest lists up to n keys, the ones that expire first.
func (s *Store[K, V]) Soonest(n int) []K {
	type pending struct {
		key     K
		expires time.Time
	}
	all := make([]pending, 0, len(s.items))
	for k, e := range s.items {
		all = append(all, pending{k, e.Expires})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].expires.Before(all[j].expires) })
	keys := make([]K, 0, n)
	for _, p := range all[:min(n, len(all))] {
		keys = append(keys, p.key)
	}
	return keys
}

// Describe names a store for logs: "Größe" is German for size.
func Describe(n int) string { return "Größe 📦: " + time.Duration(n).String() }
