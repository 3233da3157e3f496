package io.petrel.node;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.petrel.invoker.LocalInvoker;
import io.petrel.invoker.PoolStats;

import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * A zone's invoker as Prometheus meters: its containers by state, the memory they hold against the
 * budget, and how activations found a container (warm, prewarmed, cold) or found none.
 */
final class InvokerMetrics {
    private InvokerMetrics() {
    }

    static void bind(LocalInvoker invoker, MeterRegistry registry, String zone) {
        Map<String, ToDoubleFunction<PoolStats>> states = Map.of("starting", PoolStats::starting, "prewarmed", PoolStats::prewarmed,
                "initializing", PoolStats::initializing, "busy", PoolStats::busy, "idle", PoolStats::idle);
        states.forEach((state, f) -> Gauge.builder("petrel_invoker_containers", invoker, i -> f.applyAsDouble(i.stats()))
                .description("containers of this zone in each state").tag("zone", zone).tag("state", state).register(registry));
        gauge(registry, zone, invoker, "petrel_invoker_activations_running", "activations running in this zone's containers", PoolStats::activations);
        gauge(registry, zone, invoker, "petrel_invoker_memory_used_megabytes", "container memory reserved in this zone", PoolStats::memoryInUseMb);
        gauge(registry, zone, invoker, "petrel_invoker_memory_budget_megabytes", "container memory this zone may use (invoker.memory.mb)",
                PoolStats::memoryBudgetMb);
        gauge(registry, zone, invoker, "petrel_invoker_activations_waiting", "activations waiting in this zone for a container or memory to be free",
                PoolStats::waiting);
        FunctionCounter.builder("petrel_invoker_waited", invoker, i -> i.stats().waited())
                .description("activations that found no room in the region and waited for it here").tag("zone", zone).register(registry);
        Map<String, ToDoubleFunction<PoolStats>> starts = Map.of("warm", PoolStats::warmStarts, "prewarmed", PoolStats::prewarmStarts,
                "cold", PoolStats::coldStarts);
        starts.forEach((start, f) -> FunctionCounter.builder("petrel_invoker_starts", invoker, i -> f.applyAsDouble(i.stats()))
                .description("activations by how they found their container").tag("zone", zone).tag("start", start).register(registry));
        FunctionCounter.builder("petrel_invoker_refused", invoker, i -> i.stats().rejected())
                .description("activations this zone had no room for (placed elsewhere, waited, or 503)").tag("zone", zone).register(registry);
        FunctionCounter.builder("petrel_invoker_containers_discarded", invoker, i -> i.stats().discarded())
                .description("containers closed after a timeout, crash, memory exhaustion or bad output").tag("zone", zone).register(registry);
    }

    private static void gauge(MeterRegistry registry, String zone, LocalInvoker invoker, String name, String help, ToDoubleFunction<PoolStats> f) {
        Gauge.builder(name, invoker, i -> f.applyAsDouble(i.stats())).description(help).tag("zone", zone).register(registry);
    }
}
