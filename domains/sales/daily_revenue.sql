-- Net revenue per day, country and channel, recomputed over the last 35 days' orders.
SELECT
  DATE(o.ordered_at) AS day,
  o.shipping_address.country_code AS country_code,
  'web' AS channel,
  SUM(o.amount) AS net_revenue,
  COUNT(DISTINCT o.order_id) AS orders
FROM orders.orders AS o
WHERE o.ordered_at >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 35 DAY)
  AND o.shipping_address.country_code IS NOT NULL
GROUP BY day, country_code, channel
