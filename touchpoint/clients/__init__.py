"""Plain Kafka clients around the Flink jobs: producing and reading topics, publishing campaigns, following the
lead topic the way an outbound system does."""
