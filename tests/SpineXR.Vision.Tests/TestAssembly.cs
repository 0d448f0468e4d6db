// TorchSharp's default random generator, thread count and grad mode are process-global: tests that seed it
// (model initialisation, training determinism) must not interleave with tests that draw from it.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
