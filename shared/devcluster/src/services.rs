/// The seven services, by the name of their binary's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Api,
    Orchestrator,
    Generation,
    Judging,
    Reward,
    Training,
    Evaluation,
}

pub const SERVICES: [Service; 7] = [
    Service::Api,
    Service::Orchestrator,
    Service::Generation,
    Service::Judging,
    Service::Reward,
    Service::Training,
    Service::Evaluation,
];

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Orchestrator => "orchestrator",
            Self::Generation => "generation",
            Self::Judging => "judging",
            Self::Reward => "reward",
            Self::Training => "training",
            Self::Evaluation => "evaluation",
        }
    }

    pub fn binary(self) -> String {
        format!("criticloop-{}", self.name())
    }

    /// Workers that call a model backend.
    pub fn uses_backend(self) -> bool {
        matches!(self, Self::Generation | Self::Judging | Self::Training | Self::Evaluation)
    }
}
