"""Store adapters implementing ``dawai.ports`` SummaryStore, FeedbackStore and AudioCache.

``memory``: bounded in-process stores, one set per worker process; also the test fakes.
``redis``: stores shared by every worker, on a ``redis.asyncio`` client built with
``redis_client(url)``; the ``redis`` package (``dawai-backend[redis]``) loads only there.
"""

from dawai.adapters.stores.memory import (
    MemoryAudioCache,
    MemoryFeedbackStore,
    MemorySummaryStore,
)
from dawai.adapters.stores.redis import (
    RedisAudioCache,
    RedisFeedbackStore,
    RedisSummaryStore,
    redis_client,
)
from dawai.adapters.stores.sqlite import SqliteFeedbackStore

__all__ = [
    "MemoryAudioCache",
    "MemoryFeedbackStore",
    "MemorySummaryStore",
    "RedisAudioCache",
    "RedisFeedbackStore",
    "RedisSummaryStore",
    "SqliteFeedbackStore",
    "redis_client",
]
