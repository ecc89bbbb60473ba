package io.dermcap.topology;

import io.dermcap.events.CaptionRequest;
import io.dermcap.events.GenerationOverrides;
import io.dermcap.model.Captioner;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.InvalidSettingsException;

/**
 * A request's generation overrides, from the event to the engine's settings, in one place: the
 * validator refuses a request whose overrides the engine refuses, the batcher hands the settings
 * to the pipeline with the job, and the event names the fields that were overridden.
 */
final class RequestOverrides {

    private RequestOverrides() {
    }

    /** The settings the engine makes of the request's overrides over the bundle's defaults. */
    static GenerationSettings settings(Captioner captioner, CaptionRequest request) throws InvalidSettingsException {
        GenerationOverrides o = request.getOverrides();
        return captioner.settingsFor(o == null ? Captioner.Overrides.NONE
                : new Captioner.Overrides(o.getPrompt(), o.getNumBeams(), o.getMaxNewTokens(), o.getMinNewTokens(),
                        o.getProfile()));
    }
}
