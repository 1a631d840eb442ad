export { activateScalingPolicy as PUT } from "@/lib/control-plane/scaling/console";
