/// The worked example of oee.com ("Calculate OEE"): an 8-hour shift (06:00-14:00 UTC on
/// 2026-11-20) with 60 minutes of breaks, 47 minutes of unplanned downtime, an ideal cycle of
/// 1.0 s, 19,271 parts counted and 423 rejected gives availability 88.81 %, performance
/// 86.11 %, quality 97.80 % and OEE 74.79 %.
enum OEEComExample {
    /// The shift's state intervals and counts for every machine, as SQL (part P-1).
    static let shiftSQL = """
        INSERT INTO machine_state_interval (machine_id, started_at, ended_at, state)
            SELECT m.id, s, e, st FROM machine m, (VALUES
                ('2026-11-20 06:00+00'::timestamptz, '2026-11-20 09:00+00'::timestamptz, 'running'),
                ('2026-11-20 09:00+00', '2026-11-20 09:30+00', 'planned_stop'),
                ('2026-11-20 09:30+00', '2026-11-20 10:17+00', 'unplanned_stop'),
                ('2026-11-20 10:17+00', '2026-11-20 12:00+00', 'running'),
                ('2026-11-20 12:00+00', '2026-11-20 12:30+00', 'planned_stop'),
                ('2026-11-20 12:30+00', '2026-11-20 14:00+00', 'running')) AS x(s, e, st);
        INSERT INTO production_count (machine_id, counted_at, counter, part, quantity)
            SELECT m.id, '2026-11-20 13:00+00', c, 'P-1', q FROM machine m, (VALUES ('total', 19271), ('reject', 423)) AS x(c, q);
        """
}
