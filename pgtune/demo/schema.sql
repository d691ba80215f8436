-- A video platform modelled on the Prisma schema review (seed 000): Prisma's
-- default camelCase columns ("userId", "createdAt"), foreign keys with
-- cascades, and only the indexes Prisma creates by itself (primary keys and
-- @unique), so the workload has real work for pgtune.
CREATE TYPE "UserRole" AS ENUM ('USER', 'CREATOR', 'ADMIN');
CREATE TYPE "VideoStatus" AS ENUM ('PENDING', 'PROCESSING', 'PUBLISHED', 'FAILED');

CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL UNIQUE,
    username    text NOT NULL,
    role        "UserRole" NOT NULL DEFAULT 'USER',
    "createdAt" timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE videos (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "userId"      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title         text NOT NULL,
    status        "VideoStatus" NOT NULL DEFAULT 'PENDING',
    "viewsCount"  integer NOT NULL DEFAULT 0,
    "likesCount"  integer NOT NULL DEFAULT 0,
    "durationSec" integer NOT NULL,
    "createdAt"   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE likes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "userId"    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    "videoId"   bigint NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    "createdAt" timestamptz NOT NULL DEFAULT now(),
    UNIQUE ("userId", "videoId")
);
CREATE TABLE comments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "videoId"   bigint NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    "userId"    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body        text NOT NULL,
    "createdAt" timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE video_views (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "videoId"  bigint NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    "userId"   bigint REFERENCES users (id) ON DELETE SET NULL,
    "ipHash"   text NOT NULL,
    "viewedAt" timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE tags (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);
CREATE TABLE video_tags (
    "videoId" bigint NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    "tagId"   bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY ("videoId", "tagId")
);
CREATE TABLE subscriptions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "subscriberId" bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    "channelId"    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    "createdAt"    timestamptz NOT NULL DEFAULT now(),
    UNIQUE ("subscriberId", "channelId")
);
