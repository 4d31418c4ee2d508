-- title: Voucher use
-- The current vouchers (SMS, minutes, fax pages): credits at the start, used and left, the
-- share used, and until when they are valid.
SELECT kind,
       redeem_date,
       end_of_validity,
       CAST(credits_init AS INTEGER) AS credits,
       CAST(credits_used AS INTEGER) AS used,
       CAST(credits_left AS INTEGER) AS left_over,
       CASE WHEN CAST(credits_init AS REAL) > 0
            THEN round(100.0 * CAST(credits_used AS REAL) / CAST(credits_init AS REAL), 1) END AS percent_used
FROM mirror_balance_vouchers
ORDER BY kind, position;
