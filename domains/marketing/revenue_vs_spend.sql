-- Campaign spend against the web shop's revenue, per day: reads sales.daily_revenue through
-- marketing's subscription (subscriptions/sales/marketing.yaml).
WITH spend AS (
  SELECT day, SUM(spend_eur) AS spend_eur
  FROM campaigns.campaign_daily
  GROUP BY day
),
revenue AS (
  SELECT day, SUM(net_revenue) AS net_revenue
  FROM `acme-dm-sales.daily_revenue.daily_revenue`
  GROUP BY day
)
SELECT spend.day, spend.spend_eur, revenue.net_revenue,
       SAFE_DIVIDE(revenue.net_revenue, spend.spend_eur) AS return_on_spend
FROM spend JOIN revenue USING (day)
