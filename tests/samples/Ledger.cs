using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace Accounting.Ledgers
{
    /// <summary>
    /// What a ledger offers to the rest of the application.
    /// </summary>
    public interface ILedger
    {
        /// <summary>Applies a posting and returns the new balance.</summary>
        decimal Apply(Ledger.Posting posting);
    }

    /// <summary>
    /// Balances per account, changed only by <see cref="Apply"/>.
    /// </summary>
    /// <remarks>Not thread-safe.</remarks>
    public sealed class Ledger : ILedger
    {
        /// <summary>Which side of the account a posting goes to.</summary>
        public enum Side { Credit, Debit }

        /// <summary>One posting: an amount on one side of one account.</summary>
        public readonly record struct Posting(string Account, decimal Amount, Side Side);

        private readonly Dictionary<string, decimal> _balances = new();
        private readonly decimal _overdraft;

        /// <summary>Creates an empty ledger.</summary>
        /// <param name="overdraft">How far below zero a balance may go.</param>
        public Ledger(decimal overdraft = 0m)
        {
            _overdraft = overdraft;
        }

        /// <summary>The number of accounts with a balance.</summary>
        public int Count { get { return _balances.Count; } }

        /// <summary>
        /// Applies <paramref name="posting"/> to its account.
        /// </summary>
        /// <param name="posting">The posting to apply.</param>
        /// <returns>The account's new balance.</returns>
        /// <exception cref="InvalidOperationException">The overdraft would be exceeded.</exception>
        public decimal Apply(Posting posting)
        {
            var sign = posting.Side == Side.Credit ? 1 : -1;
            _balances.TryGetValue(posting.Account, out var balance);
            var next = balance + sign * posting.Amount;
            if (next < -_overdraft)
            {
                throw new InvalidOperationException($"overdraft on {posting.Account}");
            }
            _balances[posting.Account] = next;
            return next;
        }

        /// <summary>Saves every balance to <paramref name="store"/>.</summary>
        public async Task SaveAsync(IStore store)
        {
            foreach (var (account, balance) in _balances)
            {
                await store.WriteAsync(account, balance;
            }
        }

        /// <summary>The balance of <paramref name="account"/>, zero if it has none.</summary>
        public decimal Balance(string account) => _balances.GetValueOrDefault(account);

        /// <summary>A total of all balances, kept for audits.</summary>
        private sealed class Audit
        {
            public decimal Total { get; private set; }

            public Audit(Ledger ledger)
            {
                foreach (var balance in ledger._balances.Values) Total += balance;
            }
        }
    }

    /// <summary>Where balances are saved.</summary>
    public interface IStore
    {
        Task WriteAsync(string account, decimal balance);
    }

    /// <summary>An amount with its currency &amp; nothing else.</summary>
    public struct Money
    {
        public decimal Amount;
        public string Currency;

        public override string ToString() => $"{Amount} {Currency} — « montant »";
    }
}
