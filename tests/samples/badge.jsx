import React, { useEffect, useState } from 'react';

/**
 * A badge showing a count; clicking it resets the count.
 * @param {{label: string, start?: number}} props
 */
export default function Badge({ label, start = 0 }) {
  const [count, setCount] = useState(start);
  return (
    <button className="badge" onClick={() => setCount(0)}>
      {label}: {formatCount(count)}
    </button>
  );
}

/** One row of the badge list. */
export const BadgeRow = ({ items }) => (
  <ul>
    {items.map((item) => <li key={item.id}><Badge label={item.name} /></li>)}
  </ul>
);

/**
 * The unread count for a user, polled every `everyMs` milliseconds.
 */
export function useUnread(userId, everyMs = 30000) {
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    const timer = setInterval(async () => {
      const response = await fetch(`/api/users/${userId}/unread`);
      setUnread((await response.json()).count);
    }, everyMs);
    return () => clearInterval(timer);
  }, [userId, everyMs]);
  return unread;
}

/** Keeps the list of badges and its selection. */
class BadgeList extends React.Component {
  state = { selected: null };

  /** Selects the badge with this id. */
  select(id) {
    this.setState({ selected: id );
  }

  render() {
    return <div className="badges">{this.props.children}</div>;
  }
}

/** Formats a count for the badge: "99+" past 99. */
function formatCount(n) {
  return n > 99 ? '99+' : String(n);
}

export const Empty = () => <p className="badge-empty">Aucun résultat — 🔕</p>;
