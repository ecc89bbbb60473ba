package io.dermcap;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import io.dermcap.model.runtime.OnnxCaptioner;
import io.dermcap.storage.StorageFetcher;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.Reader;
import java.util.Properties;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The dependency rules of the design, checked on the service's own classes (not its tests): what
 * each package may know, where the parts are wired together, who reads the environment.
 */
class ArchitectureTest {

    private static final JavaClasses SERVICE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("io.dermcap");

    private static final String KAFKA = "org.apache.kafka..";
    private static final String AVRO = "org.apache.avro..";
    private static final String EVENTS = "io.dermcap.events..";
    private static final String SERVICE_PACKAGE = "io.dermcap.service..";
    private static final String CLI = "io.dermcap.cli..";

    private static void check(ArchRule rule) {
        rule.check(SERVICE);
    }

    @Test
    void theCaptioningPartsKnowNoKafkaAndNoAvro() {
        check(noClasses().that().resideInAnyPackage("io.dermcap.image..", "io.dermcap.model..", "io.dermcap.storage..",
                        "io.dermcap.pipeline..")
                .should().dependOnClassesThat().resideInAnyPackage(KAFKA, AVRO, EVENTS)
                .because("the pipeline captions images for the CLI, the benchmark and the topology alike"));
    }

    @Test
    void theTopologyReachesTheEngineOnlyThroughItsInterface() {
        check(noClasses().that().resideInAPackage("io.dermcap.topology..")
                .should().dependOnClassesThat().resideInAnyPackage("ai.onnxruntime..", "io.dermcap.model.runtime..")
                .because("the topology sees a Captioner, never ONNX Runtime"));
    }

    @Test
    void theRegistryKnowsNothingOfTheModelOrTheTopology() {
        check(noClasses().that().resideInAPackage("io.dermcap.registry..")
                .should().dependOnClassesThat().resideInAnyPackage("io.dermcap.model..", "io.dermcap.topology..",
                        "io.dermcap.pipeline..", "io.dermcap.image..", "io.dermcap.storage..")
                .because("the registry (serde and client) knows Avro and HTTP only"));
    }

    @Test
    void onlyTheServiceAndTheCommandLineWireThePartsTogether() {
        check(classes().that().resideInAnyPackage(SERVICE_PACKAGE, "io.dermcap.config..")
                .should().onlyHaveDependentClassesThat().resideInAnyPackage(SERVICE_PACKAGE, CLI, "io.dermcap.config..")
                .because("the service and the command line are where things are wired together"));
        check(noClasses().that().resideOutsideOfPackages(SERVICE_PACKAGE, CLI, "io.dermcap.model.runtime..",
                        "io.dermcap.storage..")
                .should().dependOnClassesThat().belongToAnyOf(OnnxCaptioner.class, StorageFetcher.class)
                .because("the engine and the fetcher are built in the wiring only"));
        check(noClasses().that().resideOutsideOfPackages(SERVICE_PACKAGE, CLI, "io.dermcap.audit..")
                .should().dependOnClassesThat().belongToAnyOf(KafkaStreams.class)
                .because("the streams are built and started in the wiring; the audit endpoint only queries their stores"));
        check(noClasses().that().resideOutsideOfPackages(SERVICE_PACKAGE, CLI)
                .should().callConstructor(KafkaStreams.class, Topology.class, Properties.class)
                .orShould().callMethod(KafkaStreams.class, "start")
                .because("only the wiring builds and starts the streams"));
    }

    @Test
    void onlyTheConfigurationReadsTheEnvironmentAndPropertyFiles() {
        check(noClasses().that().resideOutsideOfPackage("io.dermcap.config..")
                .should().callMethod(System.class, "getenv")
                .orShould().callMethod(System.class, "getenv", String.class)
                .orShould().callMethod(System.class, "getProperty", String.class)
                .orShould().callMethod(System.class, "getProperty", String.class, String.class)
                .orShould().callMethod(Properties.class, "load", Reader.class)
                .orShould().callMethod(Properties.class, "load", InputStream.class)
                .because("configuration is read once, into typed options, by the config package"));
    }

    @Test
    void noPackagesImportEachOtherInACircle() {
        check(slices().matching("io.dermcap.(**)").should().beFreeOfCycles());
    }
}
