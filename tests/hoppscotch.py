"""A Hoppscotch-shaped table for tests (hoppscotch/hoppscotch's UserHistory, packages/hoppscotch-backend/prisma/
schema.prisma, as Prisma migrates it): a request a user ran, with its JSON, starred or not. Each test adds its rows."""

USER_HISTORY = """
CREATE TYPE "ReqType" AS ENUM ('REST', 'GQL');
CREATE TABLE "UserHistory" (
    "id" text PRIMARY KEY,
    "userUid" text NOT NULL,
    "reqType" "ReqType" NOT NULL,
    "request" jsonb NOT NULL,
    "responseMetadata" jsonb NOT NULL,
    "isStarred" boolean NOT NULL,
    "executedOn" timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
"""
