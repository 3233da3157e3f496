package io.petrel.container;

enum LogStream {
    STDOUT("stdout"),
    STDERR("stderr");

    private final String label;

    LogStream(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }
}
