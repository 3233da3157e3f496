package io.petrel.backup.target;

import java.net.URI;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class S3TargetConfigTest {
    private static final Map<String, String> NO_ENV = Map.of();
    private static final String KEYS = "accessKey=AK&secretKey=SK";

    @Test
    void parsesEveryPart() {
        S3TargetConfig c = S3TargetConfig.parse(
                "s3://backups/region-1/zone.a?endpoint=http://127.0.0.1:9000&region=eu-west-3&" + KEYS + "&createBucket=false", NO_ENV);

        assertThat(c.bucket()).isEqualTo("backups");
        assertThat(c.prefix()).isEqualTo("region-1/zone.a/");
        assertThat(c.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9000"));
        assertThat(c.region()).isEqualTo("eu-west-3");
        assertThat(c.accessKey()).isEqualTo("AK");
        assertThat(c.secretKey()).isEqualTo("SK");
        assertThat(c.createBucket()).isFalse();
        assertThat(c.listPageSize()).isEqualTo(1000);
        assertThat(c.multipartThreshold()).isEqualTo(64L << 20);
        assertThat(c.partSize()).isEqualTo(16L << 20);
        assertThat(c.describe()).isEqualTo("s3://backups/region-1/zone.a/ (http://127.0.0.1:9000)");
    }

    @Test
    void prefixIsOptionalAndSlashesAroundItDoNotMatter() {
        assertThat(S3TargetConfig.parse("s3://backups?" + KEYS, NO_ENV).prefix()).isEmpty();
        assertThat(S3TargetConfig.parse("s3://backups/?" + KEYS, NO_ENV).prefix()).isEmpty();
        assertThat(S3TargetConfig.parse("s3://backups/p/q/?" + KEYS, NO_ENV).prefix()).isEqualTo("p/q/");
    }

    @Test
    void defaultsComeFromTheEnvironmentThenFixedValues() {
        Map<String, String> env = Map.of("AWS_ACCESS_KEY_ID", "envAK", "AWS_SECRET_ACCESS_KEY", "envSK", "AWS_REGION", "ap-south-1");
        S3TargetConfig c = S3TargetConfig.parse("s3://backups", env);
        assertThat(c.accessKey()).isEqualTo("envAK");
        assertThat(c.secretKey()).isEqualTo("envSK");
        assertThat(c.region()).isEqualTo("ap-south-1");
        assertThat(c.endpoint()).isNull();
        assertThat(c.createBucket()).isTrue();
        assertThat(c.describe()).isEqualTo("s3://backups/ (AWS ap-south-1)");

        S3TargetConfig noRegion = S3TargetConfig.parse("s3://backups?" + KEYS, NO_ENV);
        assertThat(noRegion.region()).isEqualTo("us-east-1");
        // Keys in the spec win over the environment, as a pair.
        assertThat(S3TargetConfig.parse("s3://backups?" + KEYS, env).accessKey()).isEqualTo("AK");
    }

    @Test
    void secretKeysKeepPlusAndSlashAndMayBePercentEncoded() {
        assertThat(S3TargetConfig.parse("s3://b-1?accessKey=AK&secretKey=a+b/c", NO_ENV).secretKey()).isEqualTo("a+b/c");
        assertThat(S3TargetConfig.parse("s3://b-1?accessKey=AK&secretKey=a%2Bb%2Fc%26d%3D", NO_ENV).secretKey()).isEqualTo("a+b/c&d=");
    }

    @Test
    void theSecretKeyIsNeverShown() {
        S3TargetConfig c = S3TargetConfig.parse("s3://backups?accessKey=AK&secretKey=TOPSECRET", NO_ENV);
        assertThat(c.toString()).doesNotContain("TOPSECRET").contains("secretKey=***");
        assertThat(c.describe()).doesNotContain("TOPSECRET");
        assertThatThrownBy(() -> S3TargetConfig.parse("s3://backups?accessKey=AK&secretKey=TOPSECRET&colour=red", NO_ENV))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown parameter 'colour'")
                .hasMessageNotContaining("TOPSECRET");
        assertThatThrownBy(() -> S3TargetConfig.parse("s3://backups?accessKey=AK&secretKey=TOP%zzSECRET", NO_ENV))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a URI (Malformed escape pair)")
                .hasMessageNotContaining("TOP");
    }

    @Test
    void badSpecsAreRefusedWithAReason() {
        assertBad("http://backups?" + KEYS, "the scheme must be s3");
        assertBad("s3:backups", "no bucket");
        assertBad("s3:///prefix?" + KEYS, "no bucket");
        assertBad("s3://Backups_Upper?" + KEYS, "invalid S3 bucket name 'Backups_Upper'");
        assertBad("s3://ab?" + KEYS, "invalid S3 bucket name 'ab'");
        assertBad("s3://backups/a//b?" + KEYS, "invalid S3 key prefix 'a//b'");
        assertBad("s3://backups/../up?" + KEYS, "invalid S3 key prefix '../up'");
        assertBad("s3://backups/with%20space?" + KEYS, "invalid S3 key prefix 'with space'");
        assertBad("s3://AK:SK@backups", "credentials go in the accessKey and secretKey parameters");
        assertBad("s3://backups:9000?" + KEYS, "the server goes in the endpoint parameter");
        assertBad("s3://backups?" + KEYS + "#x", "fragment");
        assertBad("s3://backups?" + KEYS + "&endpoint=ftp://host", "must be an http:// or https:// URL");
        assertBad("s3://backups?" + KEYS + "&endpoint=127.0.0.1:9000", "endpoint");
        assertBad("s3://backups?" + KEYS + "&endpoint=http://h:9000?x=1", "must be just scheme://host[:port][/path]");
        assertBad("s3://backups?" + KEYS + "&createBucket=yes", "createBucket must be true or false, not 'yes'");
        assertBad("s3://backups?" + KEYS + "&region=a&region=b", "parameter 'region' given twice");
        assertBad("s3://backups?" + KEYS + "&region", "parameter 'region' is not NAME=VALUE");
        assertBad("s3://backups?accessKey=AK", "accessKey and secretKey must be given together");
        assertBad("s3://backups", "no credentials: give accessKey and secretKey parameters, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        assertBad("s3://backups with space?" + KEYS, "not a URI");
    }

    @Test
    void everyMessageShowsTheExpectedForm() {
        assertThatThrownBy(() -> S3TargetConfig.parse("s3://x", NO_ENV))
                .hasMessageContaining("expected s3://BUCKET[/PREFIX][?endpoint=URL");
    }

    @Test
    void tuningIsChecked() {
        S3TargetConfig c = S3TargetConfig.parse("s3://backups?" + KEYS, NO_ENV);
        assertThat(c.withListPageSize(7).listPageSize()).isEqualTo(7);
        assertThat(c.withMultipart(8L << 20, 5L << 20).partSize()).isEqualTo(5L << 20);
        assertThat(c.withPrefix("/x/y/").prefix()).isEqualTo("x/y/");
        assertThatThrownBy(() -> c.withListPageSize(0)).hasMessageContaining("listPageSize must be 1..1000");
        assertThatThrownBy(() -> c.withListPageSize(1001)).hasMessageContaining("listPageSize must be 1..1000");
        assertThatThrownBy(() -> c.withMultipart(64L << 20, 1L << 20)).hasMessageContaining("at least 5242880 bytes");
        assertThatThrownBy(() -> c.withMultipart(5L << 20, 6L << 20)).hasMessageContaining("must not be below partSize");
    }

    private static void assertBad(String spec, String reason) {
        assertThatThrownBy(() -> S3TargetConfig.parse(spec, NO_ENV))
                .as(spec)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(reason);
    }
}
