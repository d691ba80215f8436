-- Generated data, skewed like real traffic: a few creators own most videos,
-- a few videos get most views, likes and comments (power-law via random()^k).
-- :scale is replaced by the runner with a number (1.0 is about 1M rows).
SELECT setseed(0.42);

INSERT INTO users (email, username, role, "createdAt")
SELECT 'user' || g || '@example.com', 'user' || g,
       (CASE WHEN g % 50 = 0 THEN 'CREATOR' WHEN g % 5000 = 0 THEN 'ADMIN' ELSE 'USER' END)::"UserRole",
       now() - (random() * 1000) * interval '1 day'
FROM generate_series(1, (50000 * :scale)::int) AS g;

INSERT INTO videos ("userId", title, status, "viewsCount", "likesCount", "durationSec", "createdAt")
SELECT 1 + floor(power(random(), 3) * (50000 * :scale))::bigint,
       'video ' || g,
       (CASE WHEN r < 0.90 THEN 'PUBLISHED' WHEN r < 0.95 THEN 'PENDING'
             WHEN r < 0.998 THEN 'FAILED' ELSE 'PROCESSING' END)::"VideoStatus",
       floor(power(random(), 6) * 1000000)::int,
       floor(power(random(), 6) * 50000)::int,
       30 + floor(random() * 3600)::int,
       now() - (random() * 900) * interval '1 day'
FROM (SELECT g, random() AS r FROM generate_series(1, (100000 * :scale)::int) AS g) AS s;

INSERT INTO likes ("userId", "videoId", "createdAt")
SELECT 1 + floor(random() * (50000 * :scale))::bigint,
       1 + floor(power(random(), 2) * (100000 * :scale))::bigint,
       now() - (random() * 365) * interval '1 day'
FROM generate_series(1, (250000 * :scale)::int)
ON CONFLICT DO NOTHING;

INSERT INTO comments ("videoId", "userId", body, "createdAt")
SELECT 1 + floor(power(random(), 2) * (100000 * :scale))::bigint,
       1 + floor(random() * (50000 * :scale))::bigint,
       'comment ' || g,
       now() - (random() * 365) * interval '1 day'
FROM generate_series(1, (150000 * :scale)::int) AS g;

INSERT INTO video_views ("videoId", "userId", "ipHash", "viewedAt")
SELECT 1 + floor(power(random(), 2) * (100000 * :scale))::bigint,
       CASE WHEN random() < 0.7 THEN 1 + floor(random() * (50000 * :scale))::bigint END,
       md5(g::text),
       now() - (random() * 90) * interval '1 day'
FROM generate_series(1, (300000 * :scale)::int) AS g;

INSERT INTO tags (name) SELECT 'tag' || g FROM generate_series(1, 500) AS g;

INSERT INTO video_tags ("videoId", "tagId")
SELECT 1 + floor(random() * (100000 * :scale))::bigint, 1 + floor(power(random(), 2) * 500)::bigint
FROM generate_series(1, (120000 * :scale)::int)
ON CONFLICT DO NOTHING;

INSERT INTO subscriptions ("subscriberId", "channelId", "createdAt")
SELECT 1 + floor(random() * (50000 * :scale))::bigint,
       least(50 * (1 + floor(power(random(), 2) * (1000 * :scale)))::bigint, (50000 * :scale)::bigint),
       now() - (random() * 500) * interval '1 day'
FROM generate_series(1, (80000 * :scale)::int)
ON CONFLICT DO NOTHING;
