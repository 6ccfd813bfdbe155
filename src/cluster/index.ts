export { createRedisCluster, type RedisClusterOptions } from "./redis-cluster.js";
