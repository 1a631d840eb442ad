export { activateScalingPolicy as PUT } from "@/lib/scaling/console";
