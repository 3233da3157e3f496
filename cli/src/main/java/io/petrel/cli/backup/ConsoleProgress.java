package io.petrel.cli.backup;

import io.petrel.backup.Progress;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.util.HashMap;
import java.util.Map;

/** Progress bars on stderr (one per phase), so that stdout stays the command's result. */
public final class ConsoleProgress implements Progress, AutoCloseable {
    private final Map<String, ProgressBar> bars = new HashMap<>();

    @Override
    public synchronized void update(String phase, long done, long total) {
        ProgressBar bar = bars.computeIfAbsent(phase, p -> new ProgressBarBuilder().setTaskName(p).setInitialMax(Math.max(total, 1))
                .setUnit(" MiB", 1024 * 1024).setStyle(ProgressBarStyle.ASCII).showSpeed()
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(250).build());
        if (total > 0) {
            bar.maxHint(total);
        }
        bar.stepTo(done);
    }

    @Override
    public synchronized void close() {
        bars.values().forEach(ProgressBar::close);
        bars.clear();
    }
}
