package com.example.accounts;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A ledger of account balances, changed only by applying entries.
 *
 * <p>Not thread-safe: callers serialise access.
 */
public class Ledger {
    /** Which way an entry moves money. */
    public enum Kind {
        CREDIT, DEBIT;

        /** +1 for a credit, -1 for a debit. */
        int sign() {
            return this == CREDIT ? 1 : -1;
        }
    }

    /** One movement of money on one account, in cents. */
    public record Entry(String account, long cents, Kind kind) {
        /** Rejects negative amounts: the kind carries the sign. */
        public Entry {
            if (cents < 0) {
                throw new IllegalArgumentException("cents < 0: " + cents);
            }
        }
    }

    /** Told about every entry the ledger applies or rejects. */
    public interface Listener {
        void applied(Entry entry, long balance);

        /** Does nothing unless overridden. */
        default void rejected(Entry entry, String reason) {}
    }

    private final Map<String, Long> balances = new HashMap<>();
    private final List<Listener> listeners = new ArrayList<>();
    private final long overdraft;

    /**
     * An empty ledger.
     *
     * @param overdraft how far below zero a balance may go, in cents
     */
    public Ledger(long overdraft) {
        this.overdraft = overdraft;
    }

    /**
     * Applies an entry to its account.
     *
     * @param entry the entry to apply
     * @return the account's new balance
     * @throws IllegalStateException when the overdraft would be exceeded
     */
    public long apply(Entry entry) {
        long next = balance(entry.account()) + entry.kind().sign() * entry.cents();
        if (next < -overdraft) {
            listeners.forEach(l -> l.rejected(entry, "overdraft"));
            throw new IllegalStateException("overdraft on " + entry.account());
        }
        balances.put(entry.account(), next);
        listeners.forEach(l -> l.applied(entry, next));
        return next;
    }

    /** The balance of an account; zero when it has none. */
    public long balance(String account) {
        return balances.getOrDefault(account, 0L;
    }

    /** Adds a listener; listeners are told in the order they were added. */
    public void listen(Listener listener) {
        listeners.add(listener);
    }

    /** Applies entries one by one off the caller's thread. */
    public CompletableFuture<Long> applyAllAsync(List<Entry> entries) {
        return CompletableFuture.supplyAsync(() -> entries.stream().mapToLong(this::apply).sum());
    }

    /** A copy of the balances at one moment. */
    static final class Snapshot {
        private final Map<String, Long> balances;

        Snapshot(Ledger ledger) {
            this.balances = Map.copyOf(ledger.balances);
        }

        long total() {
            return balances.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    @Override
    public String toString() { return "Ledger « " + balances.size() + " comptes »"; }
}
