"""Product tools that drive the jobs end to end for marketers: the campaign backtest (what a draft would have done
over recorded history). The harness (simulator, demo, benchmarks) lives apart, in touchpoint.harness."""
